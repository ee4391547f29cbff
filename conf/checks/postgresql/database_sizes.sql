-- Inventory: the size of every database that accepts connections.
--
-- Privileges: measuring a database takes CONNECT on it or pg_read_all_stats
-- (pg_monitor).  When the role cannot measure some databases the check
-- fails, its error naming them and the GRANT, rather than leave them out.
WITH db AS (
    -- Before PostgreSQL 15 membership in pg_read_all_stats counts, from 15
    -- on its privileges.
    SELECT d.oid, d.datname,
           has_database_privilege(d.oid, 'CONNECT')
           OR pg_has_role('pg_read_all_stats',
                          CASE WHEN current_setting('server_version_num')::int >= 150000
                               THEN 'USAGE' ELSE 'MEMBER' END) AS measurable
    FROM pg_database AS d
    WHERE d.datallowconn
), blind AS (
    SELECT count(*) AS n, array_agg(quote_ident(db.datname) ORDER BY db.datname) AS names
    FROM db
    WHERE NOT db.measurable
)
SELECT db.datname, pg_database_size(db.oid) AS bytes,
       pg_size_pretty(pg_database_size(db.oid)) AS size
FROM db
WHERE db.measurable
ORDER BY bytes DESC
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN b.n > 0 THEN format(
               'pghealthd: missing privilege: database_sizes cannot measure %s %s (%s%s);'
               ' GRANT pg_monitor TO %I',
               b.n, CASE WHEN b.n = 1 THEN 'database' ELSE 'databases' END,
               array_to_string(b.names[1:5], ', '), CASE WHEN b.n > 5 THEN ', ...' ELSE '' END,
               current_user)::int END
        FROM blind AS b)
