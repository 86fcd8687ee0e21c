-- Member documents (core/documents.c): the bytes live here, next to the rest
-- of the member's data, so that they replicate and are backed up with it;
-- no file sits on a host's disk.
--
-- type is the type libmagic found in the content (never the client's name or
-- part header); it maps to a fixed list of answer types on download.
-- A 5 MiB file needs max_allowed_packet above 5 MiB: MariaDB's default is
-- 16 MiB (the harness and script/server keep it).
CREATE TABLE documents (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    -- The module whose route stored it; only that module's routes read it.
    module VARCHAR(64) NOT NULL,
    -- Sanitised: last path component, no control characters, <= 255 bytes.
    name VARCHAR(255) NOT NULL,
    size BIGINT NOT NULL,
    sha256 BINARY(32) NOT NULL,
    type ENUM('pdf', 'jpeg', 'png') NOT NULL,
    content LONGBLOB NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY ix_documents_member (member_id, module, id),
    KEY ix_documents_created (created_at),
    CONSTRAINT fk_documents_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
