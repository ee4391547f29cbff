SELECT n
FROM (VALUES ('NaN'::numeric), ('Infinity'), ('-Infinity'), (0), (-0.000), (1.10),
    ('1e1000'), ('-1.5e-300'), (power(2::numeric, 3000)),
    (12345678901234567890123456789012345678.123456789), (NULL)) v(n)
