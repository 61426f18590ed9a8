ALTER TABLE projects ALTER COLUMN budget TYPE numeric(10, 2);
