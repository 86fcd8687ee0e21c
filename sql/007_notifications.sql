-- Notifications of members (core/notify.c): what a module tells a member,
-- read in the portal. The text carries no more than the module wrote; the
-- mail that announces it carries none of it.
CREATE TABLE notifications (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    kind VARCHAR(64) NOT NULL,
    title VARCHAR(200) NOT NULL,
    body VARCHAR(2000) NOT NULL,
    link VARCHAR(512) NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    read_at DATETIME NULL,
    PRIMARY KEY (id),
    KEY ix_notifications_member (member_id, id),
    KEY ix_notifications_unread (member_id, read_at),
    CONSTRAINT fk_notifications_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A member's choice per kind; no row: mail on.
CREATE TABLE notification_prefs (
    member_id BIGINT NOT NULL,
    kind VARCHAR(64) NOT NULL,
    mail TINYINT(1) NOT NULL,
    PRIMARY KEY (member_id, kind),
    CONSTRAINT fk_notification_prefs_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
