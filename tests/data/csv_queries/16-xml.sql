SELECT x
FROM (VALUES (xmlparse(document '<?xml version="1.0"?><a b="c, d">e &amp; f</a>')),
    (xmlparse(content 'text, "quoted"<b/>')),
    (xmlelement(name r, xmlattributes(1 AS id), 'x' || chr(10) || 'y')),
    (NULL)) v(x)
