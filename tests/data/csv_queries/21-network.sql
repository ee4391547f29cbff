SELECT '192.168.1.5/24'::inet AS i, '10.0.0.0/8'::cidr AS c, '::ffff:1.2.3.4'::inet AS i6,
    '2001:db8::/32'::cidr AS c6, '2001:db8::1/128'::inet AS i6host, '10.1.2.3'::inet AS ihost,
    '08:00:2b:01:02:03'::macaddr AS m, '08-00-2B-01-02-03-04-05'::macaddr8 AS m8
