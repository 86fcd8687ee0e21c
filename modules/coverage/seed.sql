-- Demo data for coverage (portailctl seed, after the core's seed, which
-- makes the insured persons and the practitioners). Idempotent. Every
-- insured person gets rights; derived from the row id so that it is the same
-- from one run to the next: some have children (id % 4 = 0, two when
-- id % 8 = 0), a few a spouse without rights of their own (id % 10 = 3),
-- some the CSS (id % 6 = 1 free, id % 6 = 2 with participation), one an ALD
-- (the first person after the demo member), one in five no médecin traitant.
-- The demo member, Marie Dupont (NIR 285033306300182), has two children and
-- a médecin traitant.

-- Children of the demo member, with their NIR.
INSERT INTO coverage_beneficiaries (insured_id, relation, nir, last_name, first_name, birth_date,
                                    sex, rights_from, rights_to)
SELECT i.id, 'child', k.nir, i.last_name, k.first_name, k.birth_date, k.sex, k.birth_date,
       '2027-12-31'
FROM insured i
JOIN (SELECT '112063306300270' AS nir, 'Lucas' AS first_name, DATE '2012-06-02' AS birth_date,
             1 AS sex
      UNION ALL
      SELECT '218093306300364', 'Chloé', DATE '2018-09-21', 2) k
WHERE i.nir = '285033306300182'
  AND NOT EXISTS (SELECT 1 FROM coverage_beneficiaries b
                  WHERE b.insured_id = i.id AND b.first_name = k.first_name);

-- Other people's children: a NIR built from the parent's birth place (a
-- temporary number for Corsica, whose NIR key needs another rule).
INSERT INTO coverage_beneficiaries (insured_id, relation, nir, temp_number, last_name, first_name,
                                    birth_date, sex, rights_from, rights_to, css)
SELECT c.insured_id, 'child',
       IF(c.place REGEXP '^[0-9]{5}$',
          CONCAT(c.body, LPAD(97 - MOD(CAST(c.body AS UNSIGNED), 97), 2, '0')), NULL),
       IF(c.place REGEXP '^[0-9]{5}$', NULL, CONCAT('T', LPAD(c.insured_id, 9, '0'), c.k)),
       c.last_name, c.first_name, c.birth_date, c.sex, c.birth_date, '2027-12-31', c.css
FROM (SELECT i.id AS insured_id, k.k, i.last_name, SUBSTRING(i.nir, 6, 5) AS place,
             1 + MOD(i.id + k.k, 2) AS sex,
             IF(MOD(i.id + k.k, 2) = 0,
                ELT(1 + MOD(i.id, 6), 'Lucas', 'Hugo', 'Léo', 'Gabriel', 'Nathan', 'Louis'),
                ELT(1 + MOD(i.id, 6), 'Emma', 'Jade', 'Louise', 'Alice', 'Chloé', 'Inès'))
                 AS first_name,
             DATE_ADD(DATE '2009-01-01', INTERVAL MOD(i.id * 53 + k.k * 911, 5800) DAY)
                 AS birth_date,
             CONCAT(1 + MOD(i.id + k.k, 2),
                    DATE_FORMAT(DATE_ADD(DATE '2009-01-01',
                                         INTERVAL MOD(i.id * 53 + k.k * 911, 5800) DAY), '%y%m'),
                    SUBSTRING(i.nir, 6, 5), LPAD(MOD(i.id * 3 + k.k, 997) + 1, 3, '0')) AS body,
             CASE MOD(i.id, 6) WHEN 1 THEN 'free' WHEN 2 THEN 'participation' ELSE 'none' END
                 AS css
      FROM insured i
      JOIN (SELECT 1 AS k UNION ALL SELECT 2) k
        ON k.k = 1 OR MOD(i.id, 8) = 0
      WHERE MOD(i.id, 4) = 0 AND i.nir <> '285033306300182'
        AND YEAR(i.birth_date) BETWEEN 1970 AND 1995) c
WHERE NOT EXISTS (SELECT 1 FROM coverage_beneficiaries b
                  WHERE b.insured_id = c.insured_id AND b.relation = 'child'
                    AND b.birth_date = c.birth_date);

-- A spouse without rights of their own (temporary number).
INSERT INTO coverage_beneficiaries (insured_id, relation, temp_number, last_name, first_name,
                                    birth_date, sex, rights_from, rights_to)
SELECT i.id, 'spouse', CONCAT('T', LPAD(i.id, 9, '0'), 'S'), i.last_name,
       IF(i.sex = 1, 'Claire', 'Marc'), DATE_ADD(i.birth_date, INTERVAL 400 DAY), 3 - i.sex,
       '2025-01-01', '2027-12-31'
FROM insured i
WHERE MOD(i.id, 10) = 3 AND i.nir <> '285033306300182'
  AND NOT EXISTS (SELECT 1 FROM coverage_beneficiaries b
                  WHERE b.insured_id = i.id AND b.relation = 'spouse');

-- The core's copy of every declaration (table beneficiaries, keyed by
-- declaration_id),
-- which reimbursements and appointments name: kept in step here as the
-- module does on every write (portail_beneficiary_set).
INSERT INTO beneficiaries (declaration_id, insured_id, relation, last_name, first_name,
                           birth_date, rights_from, rights_to)
SELECT b.id, b.insured_id, b.relation, b.last_name, b.first_name, b.birth_date, b.rights_from,
       b.rights_to
FROM coverage_beneficiaries b
WHERE NOT EXISTS (SELECT 1 FROM beneficiaries c WHERE c.declaration_id = b.id);

-- Rights of every insured person.
INSERT IGNORE INTO coverage_rights (insured_id, regime, fund, open_from, open_to, css, css_from,
                                    css_to, ald_label, ald_from, ald_to)
SELECT i.id, 'Régime général', COALESCE(i.fund, 'CPAM de Paris'), '2025-01-01', '2027-12-31',
       c.css, IF(c.css = 'none', NULL, '2026-01-01'), IF(c.css = 'none', NULL, '2026-12-31'),
       IF(i.id = a.id, 'Diabète de type 2 (ALD 8)', NULL), IF(i.id = a.id, '2024-03-01', NULL),
       IF(i.id = a.id, '2029-02-28', NULL)
FROM insured i
JOIN (SELECT id, CASE WHEN nir = '285033306300182' THEN 'none'
                      WHEN MOD(id, 6) = 1 THEN 'free'
                      WHEN MOD(id, 6) = 2 THEN 'participation' ELSE 'none' END AS css
      FROM insured) c ON c.id = i.id
CROSS JOIN (SELECT COALESCE(MIN(id), 0) AS id FROM insured
            WHERE nir <> '285033306300182'
              AND id > (SELECT COALESCE(MIN(id), 0) FROM insured
                        WHERE nir = '285033306300182')) a;

-- Médecin traitant: a general practitioner of the person's city (or the
-- first one), for four in five people and the demo member.
INSERT INTO coverage_doctors (insured_id, practitioner_id, status, declared_on, confirmed_on)
SELECT i.id,
       COALESCE((SELECT MIN(p.id) FROM practitioners p
                 WHERE p.specialty = 'Médecine générale' AND p.city = i.city),
                (SELECT MIN(p.id) FROM practitioners p WHERE p.specialty = 'Médecine générale')),
       'current', DATE_ADD(DATE '2018-01-01', INTERVAL MOD(i.id * 17, 2500) DAY),
       DATE_ADD(DATE '2018-01-08', INTERVAL MOD(i.id * 17, 2500) DAY)
FROM insured i
WHERE (MOD(i.id, 5) <> 0 OR i.nir = '285033306300182')
  AND EXISTS (SELECT 1 FROM practitioners p WHERE p.specialty = 'Médecine générale')
  AND NOT EXISTS (SELECT 1 FROM coverage_doctors d WHERE d.insured_id = i.id);

-- Cartes Vitale: every insured person 12 and over (one in seventeen has a
-- card on order, advanced by the job below), every beneficiary 12 and over.
INSERT INTO coverage_vitale (insured_id, serial, status, issued_on)
SELECT i.id, CONCAT('A', LPAD(i.id, 10, '0')), IF(MOD(i.id, 17) = 0, 'ordered', 'active'),
       IF(MOD(i.id, 17) = 0, NULL, DATE_ADD(DATE '2015-01-01', INTERVAL MOD(i.id * 7, 3000) DAY))
FROM insured i
WHERE TIMESTAMPDIFF(YEAR, i.birth_date, UTC_DATE()) >= 12
  AND NOT EXISTS (SELECT 1 FROM coverage_vitale v
                  WHERE v.insured_id = i.id AND v.beneficiary_id IS NULL);

INSERT INTO coverage_vitale (insured_id, beneficiary_id, serial, status, issued_on)
SELECT b.insured_id, b.id, CONCAT('B', LPAD(b.id, 10, '0')), 'active',
       DATE_ADD(b.birth_date, INTERVAL 12 YEAR)
FROM coverage_beneficiaries b
WHERE TIMESTAMPDIFF(YEAR, b.birth_date, UTC_DATE()) >= 12
  AND NOT EXISTS (SELECT 1 FROM coverage_vitale v WHERE v.beneficiary_id = b.id);

-- The seeded orders go through the card maker's steps like the members'
-- (the job coverage.vitale_advance), one job per card however often the
-- seed runs.
INSERT INTO jobs (kind, module, payload)
SELECT 'coverage.vitale_advance', 'coverage', JSON_OBJECT('card', v.id, 'to', 'in_production')
FROM coverage_vitale v
WHERE v.status = 'ordered' AND v.ordered_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = 'coverage.vitale_advance'
                  AND JSON_VALUE(j.payload, '$.card') = v.id);

-- The core's copy of each insured person's current médecin traitant
-- (member_doctors, read by the appointments module).
INSERT IGNORE INTO member_doctors (insured_id, practitioner_id, since)
SELECT d.insured_id, d.practitioner_id, COALESCE(d.confirmed_on, d.declared_on)
FROM coverage_doctors d
WHERE d.status = 'current' AND d.beneficiary_id IS NULL;
