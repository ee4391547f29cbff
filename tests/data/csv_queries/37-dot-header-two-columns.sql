SELECT 1 AS "\.", '\.' AS b
