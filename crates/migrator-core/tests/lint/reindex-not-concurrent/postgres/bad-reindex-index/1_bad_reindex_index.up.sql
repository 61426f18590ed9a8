REINDEX INDEX users_email;
