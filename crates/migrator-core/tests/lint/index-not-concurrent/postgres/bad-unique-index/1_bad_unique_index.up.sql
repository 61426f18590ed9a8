CREATE UNIQUE INDEX IF NOT EXISTS users_lower_email ON public.users USING btree (lower(email));
