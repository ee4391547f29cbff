-- A stand-in for the Amazon Redshift system tables and views that the check
-- packs conf/checks/redshift.ini and conf/checks/redshift-serverless.ini
-- read, so that every pack query parses, plans and runs on PostgreSQL.
--
-- Each object has the name, the columns and the column types that the Amazon
-- Redshift Database Developer Guide documents for it ("System tables and
-- views reference", "SYS monitoring views"); a few columns the packs do not
-- read (internal ones, recent additions) may be missing.  Types map one to
-- one (character(n), integer, bigint, numeric(p,s), timestamp, boolean,
-- text, oid, double precision).
-- This checks names, columns and visibility, not Redshift semantics.
--
-- Visibility ("Visibility of data in system tables and views"): the rows
-- live in tables of the schema redshift_fixture_data, which only superusers
-- read; the packs read views of the same names in the schema
-- redshift_fixture:
--   superuser-visible objects: no privilege for anyone; a user needs
--     GRANT SELECT ON <view> (AWS: "grant SELECT privilege on that table to
--     the regular user"), in every database (each has its own catalog);
--   user-visible objects: readable by everyone, showing a user only its own
--     rows (user id or user name) unless it is a superuser or has SYSLOG
--     ACCESS UNRESTRICTED, modelled by membership in the role
--     rs_syslog_access_unrestricted (created here if missing).
--
-- Shims stand in for the Redshift functions the packs call, with Redshift's
-- documented behaviour: GETDATE() is the start of the current statement in
-- the session's time zone, without time zone and fractional seconds;
-- CONVERT_TIMEZONE([source,] target, timestamp), source UTC by default.
--
-- Load it into a database (psql -f) and put the schema first on search_path:
--   SET search_path = redshift_fixture, public
-- Load it into several databases to model a cluster: the system tables are
-- the cluster's (the same rows in every database), SVV_TABLE_INFO is each
-- database's own.  psql variable home_db (default: the database loaded) is
-- the database the sample sessions, loads and tables belong to: pass
-- -v home_db=<first database> when loading a second one, whose
-- SVV_TABLE_INFO then stays empty.  Sample rows are relative to the current
-- time (UTC); the tests know which checks they provoke.

\if :{?home_db}
\else
SELECT current_database() AS home_db \gset
\endif
SELECT :'home_db' = current_database() AS is_home_db \gset
SET TimeZone = 'UTC';

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rs_syslog_access_unrestricted') THEN
        CREATE ROLE rs_syslog_access_unrestricted NOLOGIN;
    END IF;
END
$$;

CREATE SCHEMA redshift_fixture;
GRANT USAGE ON SCHEMA redshift_fixture TO PUBLIC;
CREATE SCHEMA redshift_fixture_data;
SET search_path = redshift_fixture_data, redshift_fixture;

-- GETDATE(): the start of the current statement, in the session's time zone.
CREATE FUNCTION redshift_fixture.getdate() RETURNS timestamp
    LANGUAGE sql STABLE
    AS $$ SELECT statement_timestamp()::timestamp(0) $$;

-- CONVERT_TIMEZONE(source, target, ts): ts read in source, shown in target.
CREATE FUNCTION redshift_fixture.convert_timezone(text, text, timestamp) RETURNS timestamp
    LANGUAGE sql STABLE
    AS $$ SELECT ($3 AT TIME ZONE $1) AT TIME ZONE $2 $$;
CREATE FUNCTION redshift_fixture.convert_timezone(text, timestamp) RETURNS timestamp
    LANGUAGE sql STABLE
    AS $$ SELECT ($2 AT TIME ZONE 'UTC') AT TIME ZONE $1 $$;

-- ---- provisioned clusters: STV_, STL_, SVL_, SVV_, SVCS_ -------------------

CREATE TABLE stv_partitions (
    owner integer, host integer, diskno integer, part_begin bigint, part_end bigint,
    used integer, tossed integer, capacity integer, reads bigint, writes bigint,
    seek_forward integer, seek_back integer, is_san integer, failed integer,
    mbps integer, mount character(256)
);

CREATE TABLE stv_node_storage_capacity (
    node integer, used integer, capacity integer
);

CREATE TABLE stl_disk_full_diag (
    currenttime bigint, node_num bigint, query_id bigint, temp_blocks bigint
);

CREATE TABLE svv_table_info (
    database text, schema text, table_id oid, "table" text, encoded text,
    diststyle text, sortkey1 text, max_varchar integer, sortkey1_enc character(32),
    sortkey_num integer, size bigint, pct_used numeric(10,4), empty bigint,
    unsorted numeric(5,2), stats_off numeric(5,2), tbl_rows numeric(38,0),
    skew_sortkey1 numeric(19,2), skew_rows numeric(19,2)
);

CREATE TABLE svv_diskusage (
    db_id integer, name character(72), slice integer, col integer, tbl integer,
    blocknum integer, num_values integer, minvalue bigint, maxvalue bigint,
    sb_pos integer, pinned integer, on_disk integer, modified integer,
    hdr_modified integer, unsorted integer, tombstone integer
);

CREATE TABLE svv_vacuum_progress (
    table_name text, status text, time_remaining_estimate text
);

CREATE TABLE stv_wlm_query_state (
    xid integer, task integer, query integer, service_class integer,
    slot_count integer, wlm_start_time timestamp, state character(16),
    queue_time bigint, exec_time bigint, query_priority char(20)
);

CREATE TABLE stv_wlm_service_class_state (
    service_class integer, num_queued_queries integer, num_executing_queries integer,
    num_serviced_queries integer, num_executed_queries integer,
    num_evicted_queries integer, num_concurrency_scaling_queries integer
);

CREATE TABLE stv_wlm_service_class_config (
    service_class integer, queueing_strategy character(32), num_query_tasks integer,
    target_num_query_tasks integer, evictable character(8), eviction_threshold bigint,
    query_working_mem integer, target_query_working_mem integer, min_step_mem integer,
    name character(64), max_execution_time bigint, user_group_wild_card boolean,
    query_group_wild_card boolean, concurrency_scaling character(20),
    query_priority character(20), user_role_wild_card boolean
);

CREATE TABLE stl_wlm_query (
    userid integer, xid integer, task integer, query integer, service_class integer,
    slot_count integer, service_class_start_time timestamp, queue_start_time timestamp,
    queue_end_time timestamp, total_queue_time bigint, exec_start_time timestamp,
    exec_end_time timestamp, total_exec_time bigint, service_class_end_time timestamp,
    final_state character(16), est_peak_mem bigint, query_priority char(20)
);

CREATE TABLE stl_wlm_rule_action (
    userid integer, query integer, service_class integer, rule character(256),
    action character(256), recordtime timestamp, action_value character(256),
    service_class_name character(64)
);

CREATE TABLE svcs_concurrency_scaling_usage (
    start_time timestamp, end_time timestamp, queries bigint,
    usage_in_seconds numeric(27,0)
);

CREATE TABLE stl_query (
    userid integer, query integer, label character(320), xid bigint, pid integer,
    database character(32), querytxt character(4000), starttime timestamp,
    endtime timestamp, aborted integer, insert_pristine integer,
    concurrency_scaling_status integer
);

CREATE TABLE svl_query_summary (
    userid integer, query integer, stm integer, seg integer, step integer,
    maxtime bigint, avgtime bigint, rows bigint, bytes bigint,
    rate_row double precision, rate_byte double precision, label text,
    is_diskbased character(1), workmem bigint, is_rrscan character(1)
);

CREATE TABLE stl_alert_event_log (
    userid integer, query integer, slice integer, segment integer, step integer,
    pid integer, xid bigint, event character(1024), solution character(1024),
    event_time timestamp
);

CREATE TABLE stl_commit_stats (
    xid bigint, node integer, startqueue timestamp, startwork timestamp,
    endflush timestamp, endstage timestamp, endlocal timestamp,
    startglobal timestamp, endtime timestamp, queuelen bigint, permblocks bigint,
    newblocks bigint, dirtyblocks bigint, headers bigint, numxids integer,
    oldestxid bigint, extwritelatency bigint, metadatawritten int,
    tombstonedblocks bigint, tossedblocks bigint, batched_by bigint
);

CREATE TABLE stv_recents (
    userid integer, status character(20), starttime timestamp, duration integer,
    user_name character(50), db_name character(50), query character(600), pid integer
);

CREATE TABLE svv_transactions (
    txn_owner text, txn_db text, xid bigint, pid integer, txn_start timestamp,
    lock_mode text, lockable_object_type text, relation integer, granted boolean
);

CREATE TABLE stv_locks (
    table_id bigint, last_commit timestamp, last_update timestamp, lock_owner bigint,
    lock_owner_pid bigint, lock_owner_start_ts timestamp, lock_owner_end_ts timestamp,
    lock_status character(22)
);

CREATE TABLE stv_sessions (
    starttime timestamp, process integer, user_name character(50),
    db_name character(50), timeout_sec int
);

CREATE TABLE stl_load_errors (
    userid integer, slice integer, tbl integer, starttime timestamp, session integer,
    query integer, filename character(256), line_number bigint, colname character(127),
    type character(10), col_length character(10), position integer,
    raw_line character(1024), raw_field_value char(1024), err_code integer,
    err_reason character(100)
);

CREATE TABLE stl_tr_conflict (
    xact_id bigint, process_id bigint, xact_start_ts timestamp, abort_time timestamp,
    table_id bigint
);

-- ---- Serverless (and provisioned): SYS_ monitoring views ---------------------

CREATE TABLE sys_query_history (
    user_id integer, query_id bigint, query_label character(320), transaction_id bigint,
    session_id integer, database_name character(128), query_type character(32),
    status character(10), result_cache_hit boolean, start_time timestamp,
    end_time timestamp, elapsed_time bigint, queue_time bigint, execution_time bigint,
    error_message character(512), returned_rows bigint, returned_bytes bigint,
    query_text character(4000), redshift_version character(256),
    compute_type character(32), service_class_id integer, service_class_name character(64)
);

CREATE TABLE sys_query_detail (
    user_id integer, query_id bigint, child_query_sequence integer, stream_id integer,
    segment_id integer, step_id integer, step_name text, table_id integer,
    table_name character(136), is_rrscan character(1), start_time timestamp,
    end_time timestamp, duration bigint, alert text, input_bytes bigint,
    input_rows bigint, output_bytes bigint, output_rows bigint,
    spilled_block_local_disk bigint, spilled_block_remote_disk bigint
);

CREATE TABLE sys_load_error_detail (
    user_id integer, query_id bigint, transaction_id bigint, session_id integer,
    database_name character(64), table_id integer, start_time timestamp,
    file_name character(256), line_number bigint, column_name character(127),
    column_type character(10), column_length character(10), position integer,
    error_code integer, error_message character(512)
);

CREATE TABLE sys_serverless_usage (
    start_time timestamp, end_time timestamp, compute_seconds double precision,
    compute_capacity double precision, data_storage integer,
    cross_region_transferred_data integer, charged_seconds integer
);

CREATE TABLE sys_session_history (
    user_id char(50), session_id integer, database_name char(50), status char(10),
    session_timeout integer, start_time timestamp, end_time timestamp
);

CREATE TABLE sys_connection_log (
    event character(50), record_time timestamp, remote_host character(45),
    remote_port character(32), session_id integer, database_name character(50),
    user_name character(50), auth_method character(32), duration integer,
    ssl_version character(50), ssl_cipher character(128), mtu integer,
    ssl_compression character(64), ssl_expansion character(64),
    iam_auth_guid character(36), application_name character(250),
    driver_version character(64), os_version character(64),
    plugin_name character(32), protocol_version integer
);

CREATE TABLE sys_transaction_history (
    user_id integer, transaction_id bigint, isolation_level text, status text,
    transaction_start_time timestamp, commit_start_time timestamp,
    commit_end_time timestamp, blocks_committed bigint, undo_transaction_id bigint
);


-- ---- visibility: the views the packs read -----------------------------------
-- sees_all(): a superuser or a user with SYSLOG ACCESS UNRESTRICTED.
CREATE FUNCTION redshift_fixture_data.sees_all() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT usesuper FROM pg_user WHERE usename = current_user), false)
                 OR pg_has_role(current_user, 'rs_syslog_access_unrestricted', 'MEMBER') $$;
REVOKE ALL ON ALL TABLES IN SCHEMA redshift_fixture_data FROM PUBLIC;

DO $$
DECLARE
    v record;
BEGIN
    -- owner: the column naming the row's user (id or name) of a user-visible
    -- object, '' for a user-visible one without such a column, NULL for a
    -- superuser-visible one.
    FOR v IN SELECT * FROM (VALUES
        ('stv_partitions', NULL), ('stv_node_storage_capacity', NULL),
        ('stl_disk_full_diag', NULL), ('svv_table_info', NULL), ('svv_diskusage', NULL),
        ('svv_vacuum_progress', NULL), ('stv_wlm_service_class_state', NULL),
        ('stv_wlm_service_class_config', NULL), ('svcs_concurrency_scaling_usage', NULL),
        ('stv_locks', NULL), ('stl_commit_stats', NULL), ('stl_tr_conflict', NULL),
        ('sys_serverless_usage', NULL), ('sys_connection_log', NULL),
        ('sys_transaction_history', NULL),
        ('stv_wlm_query_state', ''), ('stl_wlm_query', 'userid'),
        ('stl_wlm_rule_action', 'userid'), ('stl_query', 'userid'),
        ('svl_query_summary', 'userid'), ('stl_alert_event_log', 'userid'),
        ('stv_recents', 'userid'), ('svv_transactions', 'txn_owner'),
        ('stv_sessions', 'user_name'), ('stl_load_errors', 'userid'),
        ('sys_query_history', 'user_id'), ('sys_query_detail', 'user_id'),
        ('sys_load_error_detail', 'user_id'), ('sys_session_history', 'user_id')
    ) AS t(name, owner)
    LOOP
        IF v.owner IS NULL OR v.owner = '' THEN
            EXECUTE format('CREATE VIEW redshift_fixture.%1$I AS'
                           ' SELECT * FROM redshift_fixture_data.%1$I', v.name);
        ELSE
            EXECUTE format('CREATE VIEW redshift_fixture.%1$I AS'
                           ' SELECT * FROM redshift_fixture_data.%1$I'
                           ' WHERE redshift_fixture_data.sees_all()'
                           ' OR trim(%2$I::text) IN (current_user::text,'
                           ' (SELECT usesysid::text FROM pg_user WHERE usename = current_user))',
                           v.name, v.owner);
        END IF;
        IF v.owner IS NOT NULL THEN
            EXECUTE format('GRANT SELECT ON redshift_fixture.%I TO PUBLIC', v.name);
        END IF;
    END LOOP;
END
$$;

-- ---- sample rows ---------------------------------------------------------------
-- Provisioned: a node at 90 % of its disk and one at 85 % of which 10 points
-- are tossed blocks (75 % really used), a query running for 2 hours, a
-- session waiting 10 minutes for a lock another holds (its transaction is 2
-- hours old), a write lock held and one waited for, a recent COPY error, an
-- old open DML transaction, a queue under automatic WLM with 6 queries
-- waiting, 2 hours of concurrency scaling in the last day.
INSERT INTO stv_partitions (owner, host, diskno, part_begin, part_end, used, tossed, capacity)
VALUES (0, 0, 0, 0, 100, 900, 0, 1000),
       (1, 1, 0, 0, 100, 850, 100, 1000);
INSERT INTO stv_recents (userid, status, starttime, duration, user_name, db_name, query, pid)
VALUES (100, 'Running', getdate() - interval '2 hours', 2000000000, 'etl', :'home_db',
        'select * from big_table', 4242),
       (101, 'Running', getdate() - interval '10 minutes', 600000000, 'bi', :'home_db',
        'select count(*) from big_table', 4343),
       (100, 'Done', getdate() - interval '3 hours', 1000000, 'etl', :'home_db', 'select 1', -1);
INSERT INTO svv_transactions (txn_owner, txn_db, xid, pid, txn_start, lock_mode,
                              lockable_object_type, relation, granted)
VALUES ('etl', :'home_db', 1001, 4242, getdate() - interval '2 hours', 'AccessExclusiveLock',
        'relation', 100500, true),
       ('etl', :'home_db', 1001, 4242, getdate() - interval '2 hours', 'ExclusiveLock',
        'transactionid', NULL, true),
       ('bi', :'home_db', 1002, 4343, getdate() - interval '2 hours', 'AccessShareLock',
        'relation', 100500, false),
       ('bi', :'home_db', 1002, 4343, getdate() - interval '2 hours', 'ExclusiveLock',
        'transactionid', NULL, true),
       -- a compatible lock granted on the same table: not a blocker
       ('ro', :'home_db', 1003, 4444, getdate() - interval '3 hours', 'AccessShareLock',
        'relation', 100500, true);
INSERT INTO stv_locks (table_id, last_commit, last_update, lock_owner, lock_owner_pid,
                       lock_owner_start_ts, lock_owner_end_ts, lock_status)
VALUES (100500, getdate() - interval '1 day', getdate() - interval '90 minutes', 1001, 4242,
        getdate() - interval '2 hours', NULL, 'Holding write lock'),
       (100501, getdate() - interval '1 day', getdate() - interval '1 day', 1002, 4343,
        getdate() - interval '2 hours', NULL, 'Waiting for write lock');
INSERT INTO stl_load_errors (userid, slice, tbl, starttime, session, query, filename,
                             line_number, colname, type, col_length, position, raw_line,
                             raw_field_value, err_code, err_reason)
VALUES (100, 0, 100500, getdate() - interval '1 hour', 4242, 77, 's3://bucket/part-0001',
        12, 'amount', 'numeric', '12,2', 0, 'x,y', 'y', 1207, 'Invalid digit');
INSERT INTO stl_commit_stats (xid, node, startqueue, startwork, endtime, queuelen,
                              numxids, oldestxid)
VALUES (20000000, -1, getdate() - interval '10 minutes', getdate() - interval '9 minutes',
        getdate() - interval '9 minutes', 3, 2, 5000000);
INSERT INTO stl_tr_conflict (xact_id, process_id, xact_start_ts, abort_time, table_id)
VALUES (9002, 4343, getdate() - interval '30 minutes', getdate() - interval '28 minutes', 100500);
INSERT INTO stv_wlm_service_class_state (service_class, num_queued_queries,
                                         num_executing_queries, num_evicted_queries)
VALUES (100, 6, 3, 0);
INSERT INTO stv_wlm_service_class_config (service_class, num_query_tasks, name)
VALUES (100, -1, 'Default queue');
INSERT INTO svcs_concurrency_scaling_usage (start_time, end_time, queries, usage_in_seconds)
VALUES (getdate() - interval '5 hours', getdate() - interval '3 hours', 40, 7200);

-- Both packs (SYS_ views): a query running for an hour (on the main cluster),
-- one of 30 minutes ago that ran 90.5 seconds on a concurrency scaling
-- cluster, spilled to disk and whose transaction hit a serialization
-- conflict, a recent COPY error, usage rows.
INSERT INTO sys_query_history (user_id, query_id, transaction_id, session_id, database_name,
                               query_type, status, start_time, end_time, elapsed_time,
                               queue_time, execution_time, query_text, compute_type,
                               service_class_id, service_class_name)
VALUES (100, 5001, 9001, 1073741824, :'home_db', 'SELECT', 'running',
        getdate() - interval '1 hour', NULL, 3600000000, 0, 3600000000,
        'select * from big_table', 'primary', 100, 'Default queue'),
       (101, 5002, 9002, 1073741825, :'home_db', 'UPDATE', 'success',
        getdate() - interval '30 minutes',
        getdate() - interval '30 minutes' + interval '90.5 seconds',
        90500000, 0, 90500000, 'update big_table set x = 1', 'primary-scale', 100,
        'Default queue');
INSERT INTO sys_query_detail (user_id, query_id, child_query_sequence, stream_id, segment_id,
                              step_id, step_name, start_time, end_time, duration,
                              spilled_block_local_disk, spilled_block_remote_disk)
VALUES (101, 5002, 1, 0, 1, 2, 'hash', getdate() - interval '30 minutes',
        getdate() - interval '30 minutes' + interval '80 seconds', 80000000, 300, 0);
INSERT INTO sys_load_error_detail (user_id, query_id, transaction_id, session_id,
                                   database_name, table_id, start_time, file_name,
                                   line_number, column_name, column_type, column_length,
                                   position, error_code, error_message)
VALUES (100, 5003, 9003, 1073741824, :'home_db', 100500, getdate() - interval '1 hour',
        's3://bucket/part-0001', 12, 'amount', 'numeric', '12,2', 0, 1207, 'Invalid digit');
INSERT INTO sys_serverless_usage (start_time, end_time, compute_seconds, compute_capacity,
                                  data_storage, cross_region_transferred_data, charged_seconds)
VALUES (getdate() - interval '2 minutes', getdate() - interval '1 minute', 480, 8, 2048, 0, 480),
       (getdate() - interval '1 minute', getdate(), 480, 8, 2050, 0, 480);

-- SVV_TABLE_INFO of the home database: a 200 MB table without encoding, and
-- large ones whose encoding Redshift manages (AUTO), with or without encoded
-- columns so far.
\if :is_home_db
INSERT INTO svv_table_info ("database", "schema", table_id, "table", encoded, diststyle,
                            sortkey1, size, pct_used, unsorted, stats_off, tbl_rows, skew_rows)
VALUES (current_database(), 'public', 100500, 'big_table', 'N', 'AUTO(KEY(id))',
        'AUTO(SORTKEY)', 200, 0.01, 0, 0, 100000, 1.1),
       (current_database(), 'public', 100501, 'auto_encoded', 'Y, AUTO(ENCODE)', 'AUTO(ALL)',
        'AUTO(SORTKEY)', 300, 0.01, 0, 0, 100000, 1.0),
       (current_database(), 'public', 100502, 'auto_pending', 'N, AUTO(ENCODE)', 'AUTO(EVEN)',
        'AUTO(SORTKEY)', 400, 0.01, 0, 0, 100000, 1.0);
\endif
