SELECT 0.1::float8 + 0.2 AS sum, 1 / 3::float4 AS third, pi() AS pi,
    exp(1) AS e, 1e-310::float8 AS denorm, (-0.0)::float8 * 1 AS negzero
