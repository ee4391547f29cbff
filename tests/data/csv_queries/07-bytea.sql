SELECT b
FROM (VALUES ('\x'::bytea), ('\x00ff10'), (convert_to('a,b"c' || chr(10), 'UTF8')),
    (decode(repeat('ab', 5000), 'hex')), (NULL)) v(b)
