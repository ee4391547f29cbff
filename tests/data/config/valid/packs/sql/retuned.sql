SELECT datname, age(datfrozenxid) AS xid_age
  FROM pg_database
 ORDER BY 2 DESC;
