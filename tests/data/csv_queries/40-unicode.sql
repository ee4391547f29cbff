SELECT 'Grüße, Jürgen — «ÄÖÜ» ß é' AS latin, '日本語テキスト' AS cjk, 'кириллица' AS cyr,
    '😀👍🏽👨‍👩‍👧' AS emoji, U&'\FEFF bom \2028 ls \00A0 nbsp' AS invisible, U&'e\0301' AS combining,
    'مرحبا' AS rtl, U&'\+01F600' AS astral, '"😀,😀"' AS emoji_quoted, 1 AS "ключ"
