SELECT v FROM (VALUES ('\.'), ('a'), ('\.x'), ('x\.'), (NULL), (''), ('\'), (' \.'), ('\.' || chr(10))) v(v)
