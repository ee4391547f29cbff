SELECT to_tsvector('english', 'The quick brown foxes, "jumped" over') AS tv,
    'a:1A fat:2B,4C cat:5D'::tsvector AS tv2, to_tsquery('english', 'fox & (dog | cat) & !rat') AS tq,
    'super:*'::tsquery AS tq2, ''::tsvector AS tvempty, $$'don''t' 'a,b' "q"$$::tsvector AS tvquoted
