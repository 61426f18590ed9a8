UPDATE users SET locale = 'en' WHERE id <= 1000;
