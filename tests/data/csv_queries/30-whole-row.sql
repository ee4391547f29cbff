SELECT t, t.* FROM csv_t t ORDER BY id
