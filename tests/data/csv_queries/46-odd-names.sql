SELECT 1 AS " ", 2 AS "a,b", 3 AS "say ""hi""", 4 AS U&"line\000Abreak", 5 AS U&"cr\000Donly",
    6 AS "semi;colon", 7 AS "#hash", 8 AS "日本", 9 AS "x""", 10 AS "  ", 11 AS U&"tab\0009x",
    12 AS "with ; space", 13 AS U&"crlf\000D\000A", 14 AS "NULL", 15 AS "\N"
