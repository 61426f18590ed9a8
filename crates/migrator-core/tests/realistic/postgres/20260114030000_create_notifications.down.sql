DROP TABLE notifications;
DROP TYPE notification_kind;
