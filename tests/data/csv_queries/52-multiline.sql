WITH x AS (
    SELECT g
    FROM generate_series(1, 3) g
    WHERE g >= 1
)
SELECT g,
    ARRAY
    [g, g * 2] AS arr,
    'multi' AS kind,
    g::text || ':' || 'x=y' AS kv
FROM x
ORDER BY g
