-- Databases whose oldest multixact ID is far along the way to wraparound
-- (about 2^31 multixacts; row locks shared by several transactions use them).
-- pct_to_wraparound has a digit more than the threshold has, so that a
-- finding under a low threshold never shows as 0.0.
-- Threshold: pghealthd.multixact_wraparound.max_pct (percent of 2^31, default 50).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.multixact_wraparound.max_pct', true), ''),
                    '50')::numeric AS max_pct
)
SELECT d.datname, mxid_age(d.datminmxid) AS mxid_age,
       round(100.0 * mxid_age(d.datminmxid) / 2147483648,
             greatest(1, 1 + ceil(-log(greatest(conf.max_pct, 0.000000001))))::int) AS pct_to_wraparound,
       current_setting('autovacuum_multixact_freeze_max_age')::bigint AS autovacuum_multixact_freeze_max_age
FROM pg_database AS d, conf
WHERE 100.0 * mxid_age(d.datminmxid) / 2147483648 >= conf.max_pct
ORDER BY mxid_age DESC
