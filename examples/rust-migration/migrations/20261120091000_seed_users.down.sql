DELETE FROM users WHERE email IN ('Ann@Example.com', 'bob@example.COM', 'carol@example.com');
