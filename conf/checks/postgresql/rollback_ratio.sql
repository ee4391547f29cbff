-- Databases where a large share of transactions roll back (errors,
-- serialization failures, or applications that ROLLBACK by habit), since
-- their statistics were last reset.
-- Thresholds: pghealthd.rollback_ratio.max_ratio (0..1, default 0.1),
--             pghealthd.rollback_ratio.min_xacts (transactions, default 10000).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.rollback_ratio.max_ratio', true), ''),
                    '0.1')::numeric AS max_ratio,
           coalesce(nullif(current_setting('pghealthd.rollback_ratio.min_xacts', true), ''),
                    '10000')::numeric AS min_xacts
)
SELECT d.datname, d.xact_commit, d.xact_rollback,
       round(d.xact_rollback::numeric / (d.xact_commit + d.xact_rollback), 4) AS rollback_ratio,
       d.stats_reset
FROM pg_stat_database AS d, conf
WHERE d.datname IS NOT NULL
  AND d.xact_commit + d.xact_rollback > 0
  AND d.xact_commit + d.xact_rollback >= conf.min_xacts
  AND d.xact_rollback::numeric / (d.xact_commit + d.xact_rollback) >= conf.max_ratio
ORDER BY rollback_ratio DESC
