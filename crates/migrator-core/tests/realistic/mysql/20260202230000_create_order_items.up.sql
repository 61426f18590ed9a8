CREATE TABLE order_items (
    order_id BIGINT UNSIGNED NOT NULL,
    line SMALLINT UNSIGNED NOT NULL,
    sku VARCHAR(64) NOT NULL,
    quantity INT UNSIGNED NOT NULL,
    price_cents BIGINT NOT NULL,
    subtotal_cents BIGINT AS (quantity * price_cents) VIRTUAL,
    PRIMARY KEY (order_id, line),
    CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
