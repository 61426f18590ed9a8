-- Added without a default (no rewrite); new rows get one from now on.
ALTER TABLE tasks ADD COLUMN public_id uuid;
ALTER TABLE tasks ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
