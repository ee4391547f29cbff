SELECT json_build_object('text', 'a' || chr(10) || 'b', 'n', NULL, 'arr', ARRAY[1, 2]) AS j,
    jsonb_pretty('{"a": {"b": [1, "x"]}}') AS pretty,
    '$.a[*] ? (@ > 1)'::jsonpath AS jp
