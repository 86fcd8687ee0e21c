-- Demo data (portailctl seed, after the core's seed): 27 months of payment
-- lines for every insured person who has none, generated from the person's
-- id so that two runs give the same history. Per month, depending on the
-- person: the pharmacy (every month), a GP consultation two months in three
-- (30 EUR at 70 % minus the 2 EUR participation forfaitaire, the day
-- before; pharmacy at 65 %, 1 EUR franchise per box, tiers payant); every few months a specialist (exceeding fees), a
-- dentist, lab tests (tiers payant, participation); the last ten days'
-- acts and this month's pharmacy still processing; one rejected line each.
-- The person cared for is a beneficiary of the core's table (filled by the
-- coverage module's seed, which runs before this one) or NULL for the
-- insured person: a person with beneficiaries has the dentist and one
-- pharmacy month in three for the first of them. Idempotent.
INSERT INTO reimb_payments (insured_id, beneficiary_id, care_date, practitioner_name,
    practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, rate_pct,
    participation_cents, franchise_cents, reimbursed_cents, paid_to, status, received_on,
    processing_on, paid_on, expected_payment_on)
WITH RECURSIVE months (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM months WHERE n < 26),
acts (k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM acts WHERE k < 5),
picked AS (
    SELECT i.id AS insured_id,
        IF(a.k = 4 OR (a.k = 2 AND m.n % 3 = 1),
           (SELECT MIN(b.id) FROM beneficiaries b WHERE b.insured_id = i.id), NULL)
            AS beneficiary_id, m.n, a.k,
        LEAST(DATE_SUB(CURDATE(), INTERVAL 1 DAY),
              DATE_ADD(DATE_SUB(DATE_SUB(CURDATE(), INTERVAL DAYOFMONTH(CURDATE()) - 1 DAY),
                                INTERVAL m.n MONTH),
                       INTERVAL ((i.id * 7 + m.n * 3) % 24) + (a.k = 2) DAY)) AS care_date
    FROM insured i CROSS JOIN months m CROSS JOIN acts a
    WHERE NOT EXISTS (SELECT 1 FROM reimb_payments p WHERE p.insured_id = i.id)
      AND (a.k = 2 OR (a.k = 1 AND (i.id + m.n) % 3 <> 2)
           OR (a.k = 3 AND (i.id + m.n) % 5 = 0)
           OR (a.k = 4 AND (i.id + m.n) % 7 = 3)
           OR (a.k = 5 AND (i.id + m.n) % 4 = 1))
),
priced AS (
    SELECT l.*,
        ELT(l.k, 'Dr Claire Moreau', 'Pharmacie du Marché', 'Dr Antoine Lefèvre',
            'Dr Sophie Bernard', 'Laboratoire BioSanté') AS practitioner_name,
        ELT(l.k, 'Médecine générale', 'Pharmacie', 'Dermatologie', 'Chirurgie dentaire',
            'Biologie médicale') AS practitioner_specialty,
        ELT(l.k, 'consultation', 'pharmacy', 'specialist', 'dentist', 'lab') AS kind,
        ELT(l.k, 'G', 'PH4', 'CS', 'SC', 'B') AS act_code,
        ELT(l.k, 'Consultation de médecine générale', 'Médicaments (vignette blanche)',
            'Consultation de spécialiste', 'Soins conservateurs (détartrage)',
            'Analyses de biologie médicale') AS act_label,
        CASE l.k WHEN 1 THEN 3000 WHEN 2 THEN 800 + (l.insured_id * 37 + l.n * 53) % 2400
                 WHEN 3 THEN 5000 WHEN 4 THEN 4500 ELSE 1500 + (l.insured_id + l.n * 11) % 1800
        END AS charged_cents,
        CASE l.k WHEN 1 THEN 3000 WHEN 2 THEN 800 + (l.insured_id * 37 + l.n * 53) % 2400
                 WHEN 3 THEN 3000 WHEN 4 THEN 2892 ELSE 1500 + (l.insured_id + l.n * 11) % 1800
        END AS base_cents,
        ELT(l.k, 70, 65, 70, 70, 60) AS rate_pct,
        CASE WHEN l.k IN (1, 3, 5) THEN 200 ELSE 0 END AS participation_cents,
        CASE WHEN l.k = 2 THEN 100 * (1 + (l.insured_id + l.n) % 3) ELSE 0 END
            AS franchise_cents,
        CASE WHEN l.k IN (2, 5) THEN 'practitioner' ELSE 'member' END AS paid_to,
        (l.care_date >= DATE_SUB(CURDATE(), INTERVAL 10 DAY) OR (l.n = 0 AND l.k = 2)) AS recent
    FROM picked l
)
SELECT insured_id, beneficiary_id, care_date, practitioner_name, practitioner_specialty, kind,
    act_code, act_label, charged_cents, base_cents, rate_pct, participation_cents,
    franchise_cents, (base_cents * rate_pct) DIV 100 - participation_cents - franchise_cents,
    paid_to, IF(recent, 'processing', 'paid'), DATE_ADD(care_date, INTERVAL 1 DAY),
    DATE_ADD(care_date, INTERVAL 2 DAY),
    IF(recent, NULL, DATE_ADD(care_date, INTERVAL 4 + (insured_id + n) % 4 DAY)),
    IF(recent, GREATEST(DATE_ADD(care_date, INTERVAL 12 DAY),
                      DATE_ADD(CURDATE(), INTERVAL 3 DAY)), NULL)
FROM priced;

-- One rejected line each (an act outside the fund's list), eight months ago.
INSERT INTO reimb_payments (insured_id, beneficiary_id, care_date, practitioner_name,
    practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, rate_pct,
    reimbursed_cents, paid_to, status, reject_reason, received_on, processing_on)
SELECT i.id, NULL,
    DATE_SUB(CURDATE(), INTERVAL 8 MONTH), 'Cabinet Harmonie', 'Ostéopathie', 'other', 'HN',
    'Séance d''ostéopathie', 6000, 0, 0, 0, 'member', 'rejected',
    'Acte hors nomenclature : non remboursé par l''Assurance Maladie.',
    DATE_ADD(DATE_SUB(CURDATE(), INTERVAL 8 MONTH), INTERVAL 1 DAY),
    DATE_ADD(DATE_SUB(CURDATE(), INTERVAL 8 MONTH), INTERVAL 2 DAY)
FROM insured i
WHERE NOT EXISTS (SELECT 1 FROM reimb_payments p WHERE p.insured_id = i.id AND p.status = 'rejected');

-- The demo member's children (the coverage module's seed declares them):
-- Chloé at the pediatrician every other month with a received line waiting
-- for processing, Lucas at the orthodontist every third month, so that the
-- beneficiary filter and the statements' groups show something.
INSERT INTO reimb_payments (insured_id, beneficiary_id, care_date, practitioner_name,
    practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, rate_pct,
    participation_cents, franchise_cents, reimbursed_cents, paid_to, status, received_on,
    processing_on, paid_on, expected_payment_on)
WITH RECURSIVE months (n) AS (SELECT 1 UNION ALL SELECT n + 2 FROM months WHERE n < 25)
SELECT i.id, b.id, DATE_SUB(CURDATE(), INTERVAL m.n MONTH), 'Dr Julie Petit', 'Pédiatrie',
    'specialist', 'COE', 'Consultation obligatoire de l''enfant', 3000, 3000, 70, 0, 0, 2100,
    'member', 'paid', DATE_SUB(CURDATE(), INTERVAL m.n MONTH),
    DATE_ADD(DATE_SUB(CURDATE(), INTERVAL m.n MONTH), INTERVAL 1 DAY),
    DATE_ADD(DATE_SUB(CURDATE(), INTERVAL m.n MONTH), INTERVAL 5 DAY), NULL
FROM insured i JOIN beneficiaries b ON b.insured_id = i.id AND b.first_name = 'Chloé'
CROSS JOIN months m
WHERE i.email = 'marie.dupont@example.fr'
  AND NOT EXISTS (SELECT 1 FROM reimb_payments p WHERE p.insured_id = i.id
                  AND p.beneficiary_id = b.id AND p.act_code = 'COE');
INSERT INTO reimb_payments (insured_id, beneficiary_id, care_date, practitioner_name,
    practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, rate_pct,
    participation_cents, franchise_cents, reimbursed_cents, paid_to, status, received_on,
    processing_on, paid_on, expected_payment_on)
WITH RECURSIVE months (n) AS (SELECT 2 UNION ALL SELECT n + 3 FROM months WHERE n < 24)
SELECT i.id, b.id, DATE_SUB(CURDATE(), INTERVAL m.n MONTH) + INTERVAL 3 DAY,
    'Dr Marc Roussel', 'Orthopédie dento-faciale', 'dentist', 'TO90',
    'Traitement d''orthopédie dento-faciale (semestre)', 25000, 19350, 100, 0, 0, 19350,
    'member', 'paid', DATE_SUB(CURDATE(), INTERVAL m.n MONTH) + INTERVAL 4 DAY,
    DATE_SUB(CURDATE(), INTERVAL m.n MONTH) + INTERVAL 5 DAY,
    DATE_SUB(CURDATE(), INTERVAL m.n MONTH) + INTERVAL 9 DAY, NULL
FROM insured i JOIN beneficiaries b ON b.insured_id = i.id AND b.first_name = 'Lucas'
CROSS JOIN months m
WHERE i.email = 'marie.dupont@example.fr'
  AND NOT EXISTS (SELECT 1 FROM reimb_payments p WHERE p.insured_id = i.id
                  AND p.beneficiary_id = b.id AND p.act_code = 'TO90');
INSERT INTO reimb_payments (insured_id, beneficiary_id, care_date, practitioner_name,
    practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, rate_pct,
    participation_cents, franchise_cents, reimbursed_cents, paid_to, status, received_on,
    expected_payment_on)
SELECT i.id, b.id, DATE_SUB(CURDATE(), INTERVAL 2 DAY), 'Dr Julie Petit', 'Pédiatrie',
    'specialist', 'G', 'Consultation (angine)', 3000, 3000, 70, 0, 0, 2100, 'member', 'received',
    DATE_SUB(CURDATE(), INTERVAL 1 DAY), DATE_ADD(CURDATE(), INTERVAL 8 DAY)
FROM insured i JOIN beneficiaries b ON b.insured_id = i.id AND b.first_name = 'Chloé'
WHERE i.email = 'marie.dupont@example.fr'
  AND NOT EXISTS (SELECT 1 FROM reimb_payments p WHERE p.insured_id = i.id
                  AND p.status = 'received');
