DROP SCHEMA IF EXISTS staging, scratch;
