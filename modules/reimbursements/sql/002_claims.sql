-- Online reimbursement requests (demandes de remboursement) of a member,
-- with their supporting documents (the core's documents table), processed
-- by agents: submitted -> in_review (taken) -> approved (a payment line is
-- made) or rejected (with a reason), or needs_document (the member adds a
-- document, back to submitted); withdrawn by the member before review.
CREATE TABLE IF NOT EXISTS reimb_claims (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    care_date DATE NOT NULL,
    amount_paid_cents INT NOT NULL,
    beneficiary VARCHAR(100) NOT NULL,
    comment VARCHAR(1000) NOT NULL DEFAULT '',
    status VARCHAR(16) NOT NULL DEFAULT 'submitted',
    assigned_agent_id BIGINT NULL,
    decision_reason VARCHAR(500) NULL,
    payment_id BIGINT NULL,
    expected_by DATE NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    updated_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY reimb_claims_member (member_id, id),
    KEY reimb_claims_queue (status, created_at, id),
    CONSTRAINT reimb_claims_member_fk FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE,
    CONSTRAINT reimb_claims_agent_fk FOREIGN KEY (assigned_agent_id) REFERENCES agents (id),
    CONSTRAINT reimb_claims_payment_fk FOREIGN KEY (payment_id) REFERENCES reimb_payments (id),
    CONSTRAINT ck_reimb_claims_status CHECK (status IN ('submitted', 'in_review', 'needs_document',
                                                        'approved', 'rejected', 'withdrawn')),
    CONSTRAINT ck_reimb_claims_amount CHECK (amount_paid_cents > 0
                                             AND amount_paid_cents <= 10000000),
    CONSTRAINT ck_reimb_claims_kind CHECK (kind IN ('consultation', 'specialist', 'pharmacy',
                                                    'dentist', 'lab', 'hospital', 'optical',
                                                    'other'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS reimb_claim_documents (
    claim_id BIGINT NOT NULL,
    document_id BIGINT NOT NULL,
    PRIMARY KEY (claim_id, document_id),
    CONSTRAINT reimb_claim_documents_claim_fk FOREIGN KEY (claim_id) REFERENCES reimb_claims (id)
        ON DELETE CASCADE,
    CONSTRAINT reimb_claim_documents_doc_fk FOREIGN KEY (document_id) REFERENCES documents (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
