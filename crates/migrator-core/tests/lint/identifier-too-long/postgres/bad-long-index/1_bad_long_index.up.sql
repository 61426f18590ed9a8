-- migrator:no-transaction
CREATE INDEX CONCURRENTLY orders_customer_id_created_at_status_shipping_country_partial_idx ON orders (customer_id);
