SELECT 'abc'::text AS t, 'abc'::varchar(10) AS vc, 'ab'::char(5) AS c5,
    'pg_class'::name AS nm, 'x'::"char" AS ch, ''::char(3) AS c3empty,
    ''::varchar AS vcempty, NULL::text AS tnull, 'a, b'::char(6) AS c6comma
