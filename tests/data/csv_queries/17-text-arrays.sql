SELECT a
FROM (VALUES
    (ARRAY[1, 2, NULL]::text[]),
    (ARRAY['a,b', 'say "hi"', '', 'NULL', NULL, 'back\slash', ' spaced ', 'x' || chr(10) || 'y', '{braces}']),
    (ARRAY[]::text[]),
    ('{{1,2},{3,4}}'),
    ('[0:1]={x,y}'),
    (NULL)) v(a)
