SELECT b, NOT b AS nb, b::text AS t FROM (VALUES (true), (false), (NULL)) v(b)
