-- Waiting retries keep their endpoint as EndpointIsolation.endpoint now writes it: the scheme's own port written out
-- (https ...:443, http ...:80) is -1 like no port, and a host's trailing dot is left out. Rows stored before were keyed
-- by the URL's spelling, so one server's retries were counted under two or three endpoints, and those of a spelling
-- whose circuit was closed were claimed while the server's circuit was open.
-- Only the rows whose key changes are updated (and locked, which the retry poller's claim skips meanwhile). The host
-- is everything between "://" and the last ":" (a bracketed IPv6 address included), as the keys are written.
UPDATE webhook.retries r
   SET endpoint = p.m[1] || '://'
                  || CASE WHEN right(p.m[2], 1) = '.' THEN left(p.m[2], -1) ELSE p.m[2] END
                  || ':'
                  || CASE WHEN (p.m[1] = 'https' AND p.m[3] = '443') OR (p.m[1] = 'http' AND p.m[3] = '80') THEN '-1'
                          ELSE p.m[3] END
  FROM (SELECT id, regexp_match(endpoint, '^([a-z][a-z0-9+.-]*)://(.+):(-?[0-9]+)$') AS m
          FROM webhook.retries
         WHERE endpoint ~ '(\.:-?[0-9]+|^https://.*:443|^http://.*:80)$') p
 WHERE r.id = p.id AND p.m IS NOT NULL;
