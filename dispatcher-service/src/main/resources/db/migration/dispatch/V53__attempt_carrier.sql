-- The route name of the carrier that placed the attempt's call: the trunk whose slot it holds. A dispatcher that takes
-- the attempt's partition over counts the call on that trunk until its end arrives. Null for calls placed before it was
-- recorded, which count on the first trunk. Nullable and without a default, so adding it rewrites nothing.
ALTER TABLE dispatch.attempts ADD COLUMN carrier text;
