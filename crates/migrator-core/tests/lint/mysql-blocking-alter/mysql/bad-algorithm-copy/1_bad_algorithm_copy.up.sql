ALTER TABLE orders ADD INDEX orders_status (status), ALGORITHM=COPY;
