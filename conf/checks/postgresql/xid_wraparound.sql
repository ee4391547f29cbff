-- Databases whose oldest unfrozen transaction ID is far along the way to
-- wraparound (about 2^31 transactions): autovacuum is not freezing them,
-- and at the end the server stops accepting writes.
-- pct_to_wraparound has a digit more than the threshold has, so that a
-- finding under a low threshold never shows as 0.0.
-- Threshold: pghealthd.xid_wraparound.max_pct (percent of 2^31, default 50).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.xid_wraparound.max_pct', true), ''),
                    '50')::numeric AS max_pct
)
SELECT d.datname, age(d.datfrozenxid) AS xid_age,
       round(100.0 * age(d.datfrozenxid) / 2147483648,
             greatest(1, 1 + ceil(-log(greatest(conf.max_pct, 0.000000001))))::int) AS pct_to_wraparound,
       current_setting('autovacuum_freeze_max_age')::bigint AS autovacuum_freeze_max_age,
       d.datallowconn
FROM pg_database AS d, conf
WHERE 100.0 * age(d.datfrozenxid) / 2147483648 >= conf.max_pct
ORDER BY xid_age DESC
