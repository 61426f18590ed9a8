CREATE OR REPLACE VIEW open_orders AS
SELECT o.id, o.customer_id, c.email, o.status, o.created_at
FROM orders o
JOIN customers c ON c.id = o.customer_id
WHERE o.status IN ('new', 'paid');
