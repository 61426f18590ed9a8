DROP FUNCTION complete_task(bigint, bigint);
