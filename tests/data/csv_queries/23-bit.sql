SELECT B'10101'::bit(5) AS b5, B'1'::bit(1) AS b1, B''::varbit AS vempty, X'1F'::varbit AS vx,
    B'1010'::bit varying(8) AS v8, NULL::bit(3) AS bnull
