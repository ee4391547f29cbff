SELECT '[1,10)'::int4range AS r4, '(,5]'::int8range AS r8, '[1.5,2.5]'::numrange AS rn,
    '[2024-01-01 00:00, 2024-01-02 00:00)'::tsrange AS rts,
    '[2024-01-01 00:00+02, infinity)'::tstzrange AS rtstz,
    '[2024-01-01,2024-02-01]'::daterange AS rd, 'empty'::int4range AS re, '(,)'::numrange AS runb,
    int4range(NULL, NULL) AS rnull_bounds, NULL::int4range AS rnull
