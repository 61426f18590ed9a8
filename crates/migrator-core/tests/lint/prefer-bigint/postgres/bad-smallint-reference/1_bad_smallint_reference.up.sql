CREATE TABLE posts (id bigint PRIMARY KEY, tenant_id smallint NOT NULL REFERENCES tenants (id));
