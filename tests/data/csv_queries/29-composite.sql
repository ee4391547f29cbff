SELECT ROW(1, 'a,b')::csv_pair AS p, ROW(NULL, '')::csv_pair AS p_null_empty,
    ROW(2, 'say "hi"' || chr(10) || 'x')::csv_pair AS p_hostile,
    ROW(ROW(3, '(paren)')::csv_pair, ARRAY['x', NULL], 'happy, really')::csv_nest AS nested,
    ROW(1, 'x', NULL, ARRAY[1, 2]) AS anon_record, NULL::csv_pair AS p_null,
    ROW(NULL::int, NULL::text)::csv_pair AS p_all_null, ROW() AS empty_row
