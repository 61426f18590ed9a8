-- migrator:allow vacuum-full -- copied from the PostgreSQL project
ANALYZE TABLE orders;
