SELECT v FROM (VALUES ('\.'), ('\.'), ('\N'), ('NULL'), ('""')) v(v) WHERE v <> 'never'
