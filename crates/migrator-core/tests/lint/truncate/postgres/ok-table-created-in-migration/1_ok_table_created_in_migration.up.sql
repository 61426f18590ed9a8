CREATE TABLE import_buffer (line text);
TRUNCATE import_buffer;
