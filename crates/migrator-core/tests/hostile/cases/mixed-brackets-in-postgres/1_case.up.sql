SELECT [a;b];
