SELECT length(v) AS len, v FROM (SELECT repeat('x', 5 * 1024 * 1024) AS v) s
