-- migrator:allow transaction-control -- we commit ourselves
COMMIT;
