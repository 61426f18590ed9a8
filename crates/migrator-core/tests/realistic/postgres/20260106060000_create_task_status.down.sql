DROP TYPE task_status;
