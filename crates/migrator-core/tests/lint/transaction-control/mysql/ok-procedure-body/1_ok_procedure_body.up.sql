CREATE PROCEDURE archive_orders(IN cutoff DATE)
BEGIN
  START TRANSACTION;
  INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < cutoff;
  DELETE FROM orders WHERE created_at < cutoff;
  COMMIT;
END;
