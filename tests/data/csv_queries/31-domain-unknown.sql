SELECT 5::csv_posint AS d, NULL AS unknown_null, 'lit' AS unknown_lit, NULL::int AS int_null, 1
