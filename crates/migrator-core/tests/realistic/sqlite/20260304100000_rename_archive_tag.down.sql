UPDATE tags SET name = 'done; for real' WHERE name = 'archived';
