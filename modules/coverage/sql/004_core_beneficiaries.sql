-- The beneficiaries are named by other modules (reimbursements,
-- appointments) through the core's table beneficiaries (sql/014), keyed by
-- the declaration's id here (declaration_id; the core row has its own id,
-- which the other modules store): the declarations made so far are copied
-- once; from now on
-- every write of a declaration writes the core row in the same transaction
-- (portail_beneficiary_set; seed.sql does the same for the demo data).
INSERT INTO beneficiaries (declaration_id, insured_id, relation, last_name, first_name,
                           birth_date, rights_from, rights_to)
SELECT b.id, b.insured_id, b.relation, b.last_name, b.first_name, b.birth_date, b.rights_from,
       b.rights_to
FROM coverage_beneficiaries b
WHERE NOT EXISTS (SELECT 1 FROM beneficiaries c WHERE c.declaration_id = b.id);
