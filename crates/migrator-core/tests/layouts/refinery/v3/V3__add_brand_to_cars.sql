ALTER TABLE cars ADD COLUMN brand text;
