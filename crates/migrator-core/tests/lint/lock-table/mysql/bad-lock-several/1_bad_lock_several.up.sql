LOCK TABLE orders READ, customers AS c READ;
