/* a comment that never ends
SELECT 1;
