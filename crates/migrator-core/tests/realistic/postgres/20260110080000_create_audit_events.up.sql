CREATE TABLE audit_events (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    organization_id bigint NOT NULL,
    happened_at timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (id, happened_at)
) PARTITION BY RANGE (happened_at);

CREATE TABLE audit_events_2026 PARTITION OF audit_events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
