-- Databases that read a large share of their blocks from outside
-- shared_buffers, counted since their statistics were last reset.  Databases
-- with too little traffic to judge are left out.
-- Thresholds: pghealthd.cache_hit_ratio.min_ratio (0..1, default 0.95),
--             pghealthd.cache_hit_ratio.min_blocks (blocks read + hit, default 1000000).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.cache_hit_ratio.min_ratio', true), ''),
                    '0.95')::numeric AS min_ratio,
           coalesce(nullif(current_setting('pghealthd.cache_hit_ratio.min_blocks', true), ''),
                    '1000000')::numeric AS min_blocks
)
SELECT d.datname, d.blks_hit, d.blks_read,
       round(d.blks_hit::numeric / (d.blks_hit + d.blks_read), 4) AS hit_ratio,
       d.stats_reset
FROM pg_stat_database AS d, conf
WHERE d.datname IS NOT NULL
  AND d.blks_hit + d.blks_read > 0
  AND d.blks_hit + d.blks_read >= conf.min_blocks
  AND d.blks_hit::numeric / (d.blks_hit + d.blks_read) < conf.min_ratio
ORDER BY hit_ratio
