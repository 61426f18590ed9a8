CREATE PROCEDURE close_stale_orders(IN cutoff DATETIME(6), IN batch INT)
BEGIN
    DECLARE affected INT DEFAULT 1;
    -- Batches commit one by one: this runs when the application calls it, not here.
    WHILE affected > 0 DO
        START TRANSACTION;
        UPDATE orders SET status = 'shipped'
        WHERE status = 'paid' AND created_at < cutoff
        LIMIT batch;
        SET affected = ROW_COUNT();
        COMMIT;
    END WHILE;
END;
