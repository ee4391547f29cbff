SELECT i
FROM (VALUES ('1 year 2 mons -3 days 04:05:06.789'::interval), ('0'), ('-178000000 years'),
    ('178000000 years'), ('1 day -00:00:01'), ('P1Y2M3DT4H5M6S'), ('-1 microsecond'),
    (NULL)) v(i)
