-- Module messaging: threads between a member and a service of the fund,
-- their messages (plain text, stored as written) and attachments (core
-- documents). member_id is on every table so that each member query is
-- scoped by {member} without a join.
CREATE TABLE IF NOT EXISTS messaging_threads (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    service VARCHAR(16) NOT NULL,
    subject VARCHAR(200) NOT NULL,
    status ENUM('open', 'answered', 'closed') NOT NULL DEFAULT 'open',
    agent_id BIGINT NULL,
    archived TINYINT(1) NOT NULL DEFAULT 0,
    -- Id of the newest message: the order of the lists and their cursor.
    last_message_id BIGINT NOT NULL DEFAULT 0,
    last_author ENUM('member', 'agent') NOT NULL DEFAULT 'member',
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    last_activity_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY messaging_threads_member (member_id, archived, last_message_id),
    KEY messaging_threads_service (service, status, last_message_id),
    CONSTRAINT messaging_threads_member_fk FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS messaging_messages (
    id BIGINT NOT NULL AUTO_INCREMENT,
    thread_id BIGINT NOT NULL,
    member_id BIGINT NOT NULL,
    author ENUM('member', 'agent') NOT NULL,
    agent_id BIGINT NULL,
    body TEXT NOT NULL,
    sent_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    -- When the other side opened it; NULL while unread.
    read_at DATETIME NULL,
    PRIMARY KEY (id),
    KEY messaging_messages_thread (thread_id, id),
    KEY messaging_messages_member (member_id, author, read_at),
    KEY messaging_messages_rate (member_id, sent_at),
    CONSTRAINT messaging_messages_thread_fk FOREIGN KEY (thread_id)
        REFERENCES messaging_threads (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS messaging_attachments (
    document_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    thread_id BIGINT NOT NULL,
    member_id BIGINT NOT NULL,
    PRIMARY KEY (document_id),
    KEY messaging_attachments_message (message_id),
    KEY messaging_attachments_thread (thread_id),
    CONSTRAINT messaging_attachments_message_fk FOREIGN KEY (message_id)
        REFERENCES messaging_messages (id) ON DELETE CASCADE,
    CONSTRAINT messaging_attachments_document_fk FOREIGN KEY (document_id)
        REFERENCES documents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
