UPDATE users SET email = lower(email) WHERE id BETWEEN 1 AND 1000;
