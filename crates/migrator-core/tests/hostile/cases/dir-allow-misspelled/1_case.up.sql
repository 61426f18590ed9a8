-- migrator:allow drop-tabel -- archived in v41
DROP TABLE legacy;
