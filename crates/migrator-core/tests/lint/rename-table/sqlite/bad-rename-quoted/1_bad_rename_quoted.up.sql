ALTER TABLE [order items] RENAME TO "order_lines";
