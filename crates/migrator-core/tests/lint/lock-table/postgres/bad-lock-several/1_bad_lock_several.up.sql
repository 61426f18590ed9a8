LOCK accounts, ledger IN SHARE MODE;
