-- migrator:irreversible -- the emails' original spelling is not kept
-- migrator:statement-timeout 1min
-- Emails were stored as typed: stray blanks and capitals made sign-in fail for some users.
UPDATE users SET email = lower(btrim(email)) WHERE email <> lower(btrim(email));
