-- The request's W3C traceparent: the dispatcher's span within the trace of the command that first recorded it (or a
-- trace of its own, for a command that carried none). Its events and the commands its waits re-inject continue that
-- trace. Null for requests recorded before this column. Adding a nullable column rewrites nothing.
ALTER TABLE dispatch.requests ADD COLUMN traceparent text;
