SELECT NULL::text AS a, NULL::int AS b FROM generate_series(1, 2)
