DROP VIEW open_orders;
