SELECT 1; -- À¯
