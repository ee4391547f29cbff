SELECT m, m::text AS t, ARRAY[m] AS arr, n
FROM unnest(enum_range(NULL::csv_mood)) WITH ORDINALITY u(m, n)
ORDER BY n
