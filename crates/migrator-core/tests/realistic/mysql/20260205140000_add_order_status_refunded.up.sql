ALTER TABLE orders
    MODIFY status ENUM('new', 'paid', 'shipped', 'refunded') NOT NULL DEFAULT 'new',
    ALGORITHM=INSTANT;
