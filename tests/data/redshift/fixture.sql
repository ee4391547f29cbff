-- A stand-in for the Amazon Redshift system tables and views that the check
-- packs conf/checks/redshift.ini and conf/checks/redshift-serverless.ini
-- read, so that every pack query parses, plans and runs on PostgreSQL.
--
-- Each table has the name, the columns and the column types that the Amazon
-- Redshift Database Developer Guide documents for it ("System tables and
-- views reference", "SYS monitoring views"); a few columns the packs do not
-- read (internal ones, recent additions) may be missing.  Types map one to
-- one (character(n), integer, bigint, numeric(p,s), timestamp, boolean,
-- text, oid, double precision).
-- This checks names and columns, not Redshift semantics.
--
-- Shims stand in for the Redshift-only functions the packs call: getdate().
--
-- Load it into an empty database and put the schema first on search_path:
--   SET search_path = redshift_fixture, public
-- A few rows (relative to the current time) make some checks find things;
-- the test knows which.

CREATE SCHEMA redshift_fixture;
SET search_path = redshift_fixture;

-- GETDATE(): the current date and time (UTC) of the start of the statement.
CREATE FUNCTION getdate() RETURNS timestamp
    LANGUAGE sql STABLE
    AS $$ SELECT (statement_timestamp() AT TIME ZONE 'UTC')::timestamp(0) $$;

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
    query_text character(4000), redshift_version character(256)
);

CREATE TABLE sys_query_detail (
    user_id integer, query_id bigint, child_query_sequence integer, stream_id integer,
    segment_id integer, step_id integer, step_name text, table_id integer,
    table_name character(136), is_rrscan character(1), start_time timestamp,
    end_time timestamp, duration bigint, alert text, input_bytes bigint,
    input_rows bigint, output_bytes bigint, output_rows bigint
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

-- ---- sample rows ---------------------------------------------------------------
-- Provisioned: a node at 90 % of its disk, a query running for 2 hours, a
-- session waiting 10 minutes for a lock another holds, a recent COPY error.
INSERT INTO stv_partitions (owner, host, diskno, part_begin, part_end, used, tossed, capacity)
VALUES (0, 0, 0, 0, 100, 900, 0, 1000),
       (1, 1, 0, 0, 100, 100, 0, 1000);
INSERT INTO stv_recents (userid, status, starttime, duration, user_name, db_name, query, pid)
VALUES (100, 'Running', getdate() - interval '2 hours', 2000000000, 'etl', 'dev',
        'select * from big_table', 4242),
       (100, 'Done', getdate() - interval '3 hours', 1000000, 'etl', 'dev', 'select 1', -1);
INSERT INTO svv_transactions (txn_owner, txn_db, xid, pid, txn_start, lock_mode,
                              lockable_object_type, relation, granted)
VALUES ('etl', 'dev', 1001, 4242, getdate() - interval '2 hours', 'AccessExclusiveLock',
        'relation', 100500, true),
       ('etl', 'dev', 1001, 4242, getdate() - interval '2 hours', 'ExclusiveLock',
        'transactionid', NULL, true),
       ('bi', 'dev', 1002, 4343, getdate() - interval '10 minutes', 'AccessShareLock',
        'relation', 100500, false);
INSERT INTO stl_load_errors (userid, slice, tbl, starttime, session, query, filename,
                             line_number, colname, type, col_length, position, raw_line,
                             raw_field_value, err_code, err_reason)
VALUES (100, 0, 100500, getdate() - interval '1 hour', 4242, 77, 's3://bucket/part-0001',
        12, 'amount', 'numeric', '12,2', 0, 'x,y', 'y', 1207, 'Invalid digit');
INSERT INTO stl_commit_stats (xid, node, startqueue, startwork, endtime, queuelen,
                              numxids, oldestxid)
VALUES (20000000, -1, getdate() - interval '10 minutes', getdate() - interval '9 minutes',
        getdate() - interval '9 minutes', 3, 2, 5000000);

-- Serverless: a query running for an hour, a recent COPY error, usage rows.
INSERT INTO sys_query_history (user_id, query_id, transaction_id, session_id, database_name,
                               query_type, status, start_time, elapsed_time, queue_time,
                               execution_time, query_text)
VALUES (100, 5001, 9001, 1073741824, 'dev', 'SELECT', 'running',
        getdate() - interval '1 hour', 3600000000, 0, 3600000000, 'select * from big_table'),
       (100, 5002, 9002, 1073741824, 'dev', 'SELECT', 'success',
        getdate() - interval '2 hours', 1000000, 0, 1000000, 'select 1');
INSERT INTO sys_load_error_detail (user_id, query_id, transaction_id, session_id,
                                   database_name, table_id, start_time, file_name,
                                   line_number, column_name, column_type, column_length,
                                   position, error_code, error_message)
VALUES (100, 5003, 9003, 1073741824, 'dev', 100500, getdate() - interval '1 hour',
        's3://bucket/part-0001', 12, 'amount', 'numeric', '12,2', 0, 1207, 'Invalid digit');
INSERT INTO sys_serverless_usage (start_time, end_time, compute_seconds, compute_capacity,
                                  data_storage, cross_region_transferred_data, charged_seconds)
VALUES (getdate() - interval '2 minutes', getdate() - interval '1 minute', 480, 8, 2048, 0, 480),
       (getdate() - interval '1 minute', getdate(), 480, 8, 2050, 0, 480);
