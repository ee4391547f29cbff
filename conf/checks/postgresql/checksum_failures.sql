-- Data page checksum failures detected (storage or memory corruption).  Only
-- counted when data checksums are enabled.  pg_stat_reset() clears the count.
SELECT coalesce(d.datname, '(shared objects)') AS datname,
       d.checksum_failures, d.checksum_last_failure
FROM pg_stat_database AS d
WHERE d.checksum_failures > 0
ORDER BY d.checksum_last_failure DESC NULLS LAST
