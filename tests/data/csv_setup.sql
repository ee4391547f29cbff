-- Objects the CSV contract queries use (run once before the round).
CREATE TYPE csv_mood AS ENUM ('sad', 'ok', 'happy, really', 'say "hi"', 'ünïcödé', '\.');
CREATE TYPE csv_pair AS (a int, b text);
CREATE TYPE csv_nest AS (p csv_pair, tags text[], m csv_mood);
CREATE DOMAIN csv_posint AS int CHECK (VALUE > 0);

CREATE TABLE csv_t (id int PRIMARY KEY, t text, p csv_pair, m csv_mood);
INSERT INTO csv_t VALUES
    (1, 'one', ROW(1, 'a'), 'ok'),
    (2, NULL, NULL, NULL),
    (3, '', ROW(NULL, ''), 'happy, really'),
    (4, 'x,"y"', ROW(4, 'line' || chr(10) || 'two'), 'say "hi"');

CREATE TABLE "odd, ""name""" (x int);

DO $$
BEGIN
    EXECUTE (SELECT 'CREATE TABLE csv_wide AS SELECT '
        || string_agg(format('CASE WHEN g %% 7 = %s %% 7 THEN NULL ELSE (g * %s)::text END AS c%s', i, i, i), ', ' ORDER BY i)
        || ' FROM generate_series(1, 5) g'
        FROM generate_series(1, 300) i);
END
$$;
