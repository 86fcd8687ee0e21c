-- A card ordered by the member: the identity photo and the identity
-- document are core documents (table documents) of the module.
ALTER TABLE coverage_vitale
    ADD COLUMN photo_document_id BIGINT NULL,
    ADD COLUMN identity_document_id BIGINT NULL,
    ADD COLUMN ordered_at DATETIME NULL;
