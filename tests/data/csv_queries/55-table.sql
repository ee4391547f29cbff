TABLE csv_t
