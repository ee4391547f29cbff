SELECT v FROM (VALUES (NULL::text), (''), (NULL), (' ')) v(v)
