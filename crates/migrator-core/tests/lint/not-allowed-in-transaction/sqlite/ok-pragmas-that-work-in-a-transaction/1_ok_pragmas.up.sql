PRAGMA defer_foreign_keys = ON;
PRAGMA user_version = 3;
PRAGMA foreign_key_check;
