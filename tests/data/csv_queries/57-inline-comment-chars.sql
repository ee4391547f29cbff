SELECT 'a ; b' AS s1, 'c #d' AS s2, 'x' AS "y ; z", 'e ;f' AS s3, ';' AS s4, '; leading' AS s5
