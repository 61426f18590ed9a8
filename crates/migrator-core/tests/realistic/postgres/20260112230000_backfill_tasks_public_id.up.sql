-- migrator:irreversible -- generated ids are kept once handed out
-- One bounded batch; larger tables use a Rust-code backfill.
UPDATE tasks SET public_id = gen_random_uuid() WHERE public_id IS NULL AND id <= 10000;
