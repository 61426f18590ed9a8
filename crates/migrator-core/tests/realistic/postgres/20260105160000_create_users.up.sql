CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email text NOT NULL,
    display_name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A new, empty table: building its indexes in the same transaction blocks nobody.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_organization_id ON users (organization_id);
