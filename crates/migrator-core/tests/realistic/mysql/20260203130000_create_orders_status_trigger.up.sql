-- The body's statements end with ; and no DELIMITER is needed: the splitter knows BEGIN ... END.
CREATE TRIGGER orders_status_changed
AFTER UPDATE ON orders
FOR EACH ROW
BEGIN
    IF NEW.status <> OLD.status THEN
        INSERT INTO order_events (order_id, old_status, new_status)
        VALUES (NEW.id, OLD.status, NEW.status);
    END IF;
END;
