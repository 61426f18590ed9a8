-- Addresses as they arrived, in whatever case people typed them.
INSERT INTO users (email) VALUES ('Ann@Example.com'), ('bob@example.COM'), ('carol@example.com');
