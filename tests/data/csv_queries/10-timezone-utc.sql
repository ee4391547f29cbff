SELECT x AS at_utc, x::date AS d, x::timestamp AS local_ts, x::timetz AS local_timetz,
    to_char(x, 'YYYY-MM-DD HH24:MI:SS TZ OF') AS fmt, current_setting('TimeZone') AS tz,
    extract(timezone FROM x) AS offset_s, date_trunc('day', x) AS day
FROM (VALUES ('2024-03-31 01:30:00+00'::timestamptz), ('2024-10-27 00:30:00+00'),
    ('1900-01-01 00:00:00+00'), ('2024-06-01 23:30:00-05')) v(x)
