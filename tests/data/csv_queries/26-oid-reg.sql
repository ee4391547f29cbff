SELECT 'pg_class'::regclass AS rc, 'pg_class'::regclass::oid AS o, 'int4'::regtype AS rt,
    'character varying'::regtype AS rt_vc, 'int4pl'::regproc AS rp, 'int4pl(int4,int4)'::regprocedure AS rpd,
    '+(int4,int4)'::regoperator AS rop, 'pg_catalog'::regnamespace AS rns, 'postgres'::regrole AS rr,
    'english'::regconfig AS rcfg, 'simple'::regdictionary AS rdict, '"C"'::regcollation AS rcoll,
    'csv_t'::regclass AS rc_t, '"odd, ""name"""'::regclass AS rc_odd, 4294967295::oid AS maxoid,
    0::regclass AS rc_zero
