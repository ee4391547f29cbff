SELECT '{[1,3), [5,7)}'::int4multirange AS m4, '{}'::int8multirange AS mempty,
    '{[1.5,2), (3,)}'::nummultirange AS mn,
    '{[2024-01-01,2024-01-05), [2024-02-01,2024-02-02]}'::datemultirange AS md,
    tstzmultirange(tstzrange('2024-01-01 00:00+00', '2024-01-02 00:00+05')) AS mtstz,
    tsmultirange() AS mts_empty
