SELECT j, jb
FROM (VALUES
    ('{"a": 1, "b": [1, 2, "x,y"], "c": "say \"hi\""}'::json, '{"a": 1, "b": [1, 2, "x,y"], "c": "say \"hi\""}'::jsonb),
    ('  [1,  2]  ', '  [1,  2]  '),
    ('"\u00e9\ud83d\ude00 \n tab\t"', '"\u00e9\ud83d\ude00 \n tab\t"'),
    ('null', 'null'), ('{}', '{}'), (NULL, NULL), ('1e1000', '1e400'),
    ('{"k": "a\r\nb", "e": ""}', '{"k": "a\r\nb", "e": ""}')) v(j, jb)
