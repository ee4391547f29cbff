SELECT ARRAY[[[1, 2], [3, NULL]], [[5, 6], [7, 8]]] AS int3d,
    ARRAY[1.5, NULL, 'NaN']::numeric[] AS nums, ARRAY[true, NULL] AS bools,
    ARRAY['2024-01-01 00:00+00'::timestamptz] AS tstzs,
    ARRAY[ROW(1, 'a,b')::csv_pair, ROW(NULL, '"q"')::csv_pair] AS pairs,
    ARRAY['[1,5)'::int4range, 'empty'] AS ranges, ARRAY['{"a": [1, 2]}'::jsonb] AS jsons,
    ARRAY['\x00ff'::bytea] AS bytes, '{}'::int[] AS empty_int, ARRAY[[NULL::int]] AS null2d,
    ARRAY['1 day'::interval, NULL] AS intervals, ARRAY['(1,2)'::point] AS points
