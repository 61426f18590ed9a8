ALTER TABLE legacy_rows ADD PRIMARY KEY (id);
