SELECT '16/B374D848'::pg_lsn AS lsn, '0/0'::pg_lsn AS lsn0, '(0,1)'::tid AS tid,
    '1234'::xid AS x, '1234'::xid8 AS x8, '10:20:10,14,15'::txid_snapshot AS ts,
    '10:20:10,14,15'::pg_snapshot AS ps, '1 2 3'::int2vector AS i2v, '1 2 3'::oidvector AS ov,
    'postgres=arwdDxt/postgres'::aclitem AS acl, '0'::cid AS cid
