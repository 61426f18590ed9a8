CREATE TYPE task_status AS ENUM ('todo', 'doing', 'done');
