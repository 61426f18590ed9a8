CREATE FUNCTION order_total(wanted BIGINT UNSIGNED) RETURNS BIGINT
READS SQL DATA
BEGIN
    DECLARE total BIGINT;
    SELECT SUM(quantity * price_cents) INTO total FROM order_items WHERE order_id = wanted;
    RETURN COALESCE(total, 0);
END;
