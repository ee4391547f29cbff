SELECT g, g::text || ',x' AS t, md5(g::text) AS h,
    CASE WHEN g % 10 = 0 THEN NULL WHEN g % 10 = 1 THEN '' ELSE '"' || g || '"' END AS q
FROM generate_series(1, 100000) g
