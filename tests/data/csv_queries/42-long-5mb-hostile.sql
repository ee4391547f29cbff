SELECT repeat('a"b,c' || chr(10), 1048576) AS v, 'after' AS next
