-- While a row is held because no carrier of its route takes calls, the due time its wait had before the first hold:
-- holding a row moves due_at a few seconds ahead (so held rows go behind the others), and the retry scheduler's
-- lateness is measured from here, so an hour-long hold shows as an hour late. Every statement that writes a new wait
-- into the row sets it back to null. Null: the row was never held, and it has been due since due_at.
ALTER TABLE dispatch.schedule ADD COLUMN first_due_at timestamptz;
