DROP INDEX orders_status ON orders;
