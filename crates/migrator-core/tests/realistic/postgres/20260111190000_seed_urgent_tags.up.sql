-- Data only: one tag per organization.
INSERT INTO tags (organization_id, name)
SELECT id, 'urgent' FROM organizations
ON CONFLICT (organization_id, name) DO NOTHING;
