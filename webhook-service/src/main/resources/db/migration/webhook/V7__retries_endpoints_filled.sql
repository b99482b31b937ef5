-- Rows already waiting get their endpoint as EndpointIsolation.endpoint writes it ("<scheme>://<host>:<port>", -1 for
-- no port, both lower case). A URL this does not read as Java does is left without one: its row is claimed and refused
-- like any other until its endpoint takes tries again or it is given up.
-- A migration of its own: V6's ALTER TABLE holds a lock that stops every read and write of the table until its
-- transaction commits, which would have covered this update of every waiting row. This one locks only the rows it
-- updates, which the retry poller's claim skips meanwhile; the consumer's inserts and look-ups go on.
UPDATE webhook.retries r
   SET endpoint = lower(p.m[1]) || '://' || lower(p.m[2]) || ':' || coalesce(nullif(p.m[3], '')::integer, -1)
  FROM (SELECT id,
               regexp_match(btrim(url), '^([A-Za-z][A-Za-z0-9+.-]*)://(?:[^/?#@]*@)?(\[[^]/?#]*\]|[^/?#:@]+)'
                                         || '(?::([0-9]{0,9}))?(?:[/?#]|$)') AS m
          FROM webhook.retries
         WHERE url IS NOT NULL) p
 WHERE r.id = p.id AND p.m IS NOT NULL;
