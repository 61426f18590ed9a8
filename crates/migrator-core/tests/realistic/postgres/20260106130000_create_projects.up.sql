CREATE TABLE projects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name text NOT NULL,
    budget numeric(10, 2),
    legacy_ref text,
    archived_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX projects_organization_id ON projects (organization_id) WHERE archived_at IS NULL;
