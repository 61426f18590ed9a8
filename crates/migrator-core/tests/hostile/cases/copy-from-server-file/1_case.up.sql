CREATE TABLE t (id bigint PRIMARY KEY);
COPY t FROM '/srv/t.csv' WITH (FORMAT csv);
