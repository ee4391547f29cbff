SELECT 1 AS a, 2 AS a, 3, 4, 'x' AS "A", 5 AS "?column?"
