CALL purge_sessions(1000);
