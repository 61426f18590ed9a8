OPTIMIZE LOCAL TABLE orders, order_items;
