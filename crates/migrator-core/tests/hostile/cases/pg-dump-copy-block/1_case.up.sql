CREATE TABLE t (id bigint PRIMARY KEY);
COPY t (id) FROM stdin;
1
2
it's
\.
