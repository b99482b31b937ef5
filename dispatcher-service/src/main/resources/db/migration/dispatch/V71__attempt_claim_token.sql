-- Which handling of a command claimed the attempt's current dial (decision 0172): a claim whose commit was not
-- acknowledged (the connection lost after the server committed) is run again by the same handling, finds the attempt
-- claimed, and must tell its own claim, which it dials, from another copy's, which it must not. A nullable column
-- without a default: no rewrite of the table; no index names it, so writing it keeps an update on its page.
ALTER TABLE dispatch.attempts ADD COLUMN claim_token uuid;
