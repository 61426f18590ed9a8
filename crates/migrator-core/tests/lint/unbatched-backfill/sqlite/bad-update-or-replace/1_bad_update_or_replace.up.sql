UPDATE OR REPLACE users SET email = lower(email);
