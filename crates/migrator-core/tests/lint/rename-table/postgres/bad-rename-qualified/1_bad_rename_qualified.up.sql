ALTER TABLE IF EXISTS public.users RENAME TO members;
