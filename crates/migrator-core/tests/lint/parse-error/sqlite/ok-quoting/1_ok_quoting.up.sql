CREATE TABLE [order items] ("id;" INTEGER, `note;` TEXT DEFAULT 'it''s; fine');
