SELECT * FROM csv_t WHERE id < 0
