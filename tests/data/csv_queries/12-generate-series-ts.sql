SELECT g::date AS d, g AS ts, g::timestamptz AS tstz
FROM generate_series('2024-01-01'::timestamp, '2024-01-03', '1 day') g
