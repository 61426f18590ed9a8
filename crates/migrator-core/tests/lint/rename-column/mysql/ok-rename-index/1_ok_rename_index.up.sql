ALTER TABLE users RENAME INDEX users_email_idx TO users_email;
