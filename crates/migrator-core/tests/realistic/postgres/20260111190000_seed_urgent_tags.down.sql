DELETE FROM tags WHERE name = 'urgent';
