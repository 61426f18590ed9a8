DROP TRIGGER orders_status_changed;
