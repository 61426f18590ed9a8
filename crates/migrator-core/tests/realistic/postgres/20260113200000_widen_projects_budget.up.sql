-- More precision, same scale: binary-coercible, no rewrite.
ALTER TABLE projects ALTER COLUMN budget TYPE numeric(14, 2);
