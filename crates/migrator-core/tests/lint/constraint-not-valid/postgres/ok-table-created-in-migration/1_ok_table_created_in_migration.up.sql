CREATE TABLE refunds (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));
ALTER TABLE refunds ADD CONSTRAINT refunds_id_positive CHECK (id > 0);
