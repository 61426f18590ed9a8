CREATE TABLE t (id bigint PRIMARY KEY, `end` int);
CREATE PROCEDURE p() BEGIN UPDATE t SET end = 1 WHERE id > 0; SELECT begin, end FROM t ORDER BY end; END;
