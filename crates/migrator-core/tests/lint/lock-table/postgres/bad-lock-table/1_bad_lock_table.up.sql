LOCK TABLE users IN ACCESS EXCLUSIVE MODE;
UPDATE users SET email = lower(email) WHERE id < 100;
