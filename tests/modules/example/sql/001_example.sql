-- Module example: a member's notes, the smallest table scoped to a member.
-- Every query on it goes through portail_member_row/rows/exec, which bind
-- member_id from the session.
CREATE TABLE IF NOT EXISTS example_notes (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    text VARCHAR(500) NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY example_notes_member (member_id, id),
    CONSTRAINT example_notes_member_fk FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Written by the job example.recount after each new note.
CREATE TABLE IF NOT EXISTS example_note_counts (
    member_id BIGINT NOT NULL,
    notes INT NOT NULL,
    counted_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (member_id),
    CONSTRAINT example_note_counts_member_fk FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Written by the hook on ACCOUNT_LOCKED, in the locking transaction.
CREATE TABLE IF NOT EXISTS example_lock_trace (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    reason VARCHAR(40) NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY example_lock_trace_member (member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
