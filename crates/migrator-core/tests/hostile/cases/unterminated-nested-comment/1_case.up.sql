/* outer /* inner */
CREATE TABLE t (id bigint PRIMARY KEY);
