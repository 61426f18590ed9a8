CREATE TABLE import_batches (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES organizations (id),
    source text NOT NULL,
    rows_total integer NOT NULL DEFAULT 0,
    finished_at timestamptz
);
