DROP PROCEDURE close_stale_orders;
