-- A per-request hook's retries are held while its endpoint (scheme, host and port, as EndpointIsolation keys its
-- circuit) refuses tries. Held by their full URL, per-call hook URLs (https://app.example.com/status?call=<id>) were
-- each claimed and refused before they were held, and took the retry poller's capacity from other accounts' retries.
-- Set at insert for hook rows; webhook rows are held by their id, their URL being looked up before every try.
ALTER TABLE webhook.retries ADD COLUMN endpoint text;

-- Rows already waiting get their endpoint as EndpointIsolation.endpoint writes it ("<scheme>://<host>:<port>", -1 for
-- no port, both lower case). A URL this does not read as Java does is left without one: its row is claimed and refused
-- like any other until its endpoint takes tries again or it is given up.
UPDATE webhook.retries r
   SET endpoint = lower(p.m[1]) || '://' || lower(p.m[2]) || ':' || coalesce(nullif(p.m[3], '')::integer, -1)
  FROM (SELECT id,
               regexp_match(btrim(url), '^([A-Za-z][A-Za-z0-9+.-]*)://(?:[^/?#@]*@)?(\[[^]/?#]*\]|[^/?#:@]+)'
                                         || '(?::([0-9]{0,9}))?(?:[/?#]|$)') AS m
          FROM webhook.retries
         WHERE url IS NOT NULL) p
 WHERE r.id = p.id AND p.m IS NOT NULL;
