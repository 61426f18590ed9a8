DROP TABLE delimiter;
