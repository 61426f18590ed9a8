UPDATE tags SET name = 'archived' WHERE name = 'done; for real';
