SELECT '(1,2)'::point AS p, '{1,-1,0}'::line AS l, '[(0,0),(1,1)]'::lseg AS ls,
    '(1,1),(0,0)'::box AS bx, '[(0,0),(1,1),(2,0)]'::path AS open_path,
    '((0,0),(1,1),(2,0))'::path AS closed_path, '((0,0),(0,1),(1,1),(1,0))'::polygon AS poly,
    '<(0,0),5>'::circle AS circ, '(1e300,-0)'::point AS p_big, '(0.1,1.5e-7)'::point AS p_frac
