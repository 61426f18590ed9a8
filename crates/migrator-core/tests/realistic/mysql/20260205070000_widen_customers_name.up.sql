-- 100 to 150 utf8mb4 characters: both above 255 bytes, so the length prefix stays 2 bytes.
ALTER TABLE customers MODIFY name VARCHAR(150) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
