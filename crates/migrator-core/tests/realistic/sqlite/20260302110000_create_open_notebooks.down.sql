DROP VIEW open_notebooks;
