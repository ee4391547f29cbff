-- What holds the xmin horizon back: sessions, prepared transactions,
-- replication slots and standbys (hot_standby_feedback) whose snapshot is
-- older than a threshold.  Nothing older than it can be vacuumed away.
-- Threshold: pghealthd.xmin_horizon.max_age (transactions, default 10000000).
-- A session whose snapshot's xmin is the transaction ID of a prepared
-- transaction or of another session's transaction is not a cause: every
-- snapshot taken while that transaction runs has it as xmin (this check's
-- own sibling connections among them), so the row is the transaction's.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.xmin_horizon.max_age', true), ''),
                    '10000000')::bigint AS max_age
), holders AS (
    SELECT 'session' AS holder, a.pid::text AS id, a.usename::text AS owner,
           age(a.backend_xmin) AS xmin_age, a.state AS detail
    FROM pg_stat_activity AS a
    WHERE a.backend_xmin IS NOT NULL AND a.pid <> pg_backend_pid()
      AND NOT EXISTS (SELECT FROM pg_prepared_xacts AS p WHERE p.transaction = a.backend_xmin)
      AND NOT EXISTS (SELECT FROM pg_stat_activity AS o
                      WHERE o.backend_xid = a.backend_xmin AND o.pid <> a.pid)
    UNION ALL
    SELECT 'prepared transaction', p.gid, p.owner::text, age(p.transaction),
           'prepared at ' || p.prepared::text
    FROM pg_prepared_xacts AS p
    UNION ALL
    SELECT 'replication slot', s.slot_name::text, s.slot_type,
           greatest(age(s.xmin), age(s.catalog_xmin)),
           CASE WHEN s.active THEN 'active' ELSE 'inactive' END
    FROM pg_replication_slots AS s
    WHERE s.xmin IS NOT NULL OR s.catalog_xmin IS NOT NULL
    UNION ALL
    SELECT 'standby feedback', r.application_name, r.usename::text, age(r.backend_xmin),
           r.client_addr::text
    FROM pg_stat_replication AS r
    WHERE r.backend_xmin IS NOT NULL
)
SELECT h.holder, h.id, h.owner, h.xmin_age, h.detail
FROM holders AS h, conf
WHERE h.xmin_age > conf.max_age
ORDER BY h.xmin_age DESC
