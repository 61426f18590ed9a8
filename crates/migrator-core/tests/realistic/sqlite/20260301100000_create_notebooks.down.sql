DROP TABLE notebooks;
