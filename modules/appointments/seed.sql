-- Demo data of the appointments module (portailctl seed, after the core's
-- seed and before coverage's, in config order). Idempotent: every insert
-- skips what exists.
--
-- Agendas: every general practitioner (so every médecin traitant the
-- coverage seed declares has one) and one other practitioner in two; four
-- fund offices. Hours in Paris minutes since midnight.
INSERT INTO appt_agendas (practitioner_id, horizon_days)
SELECT p.id, IF(p.specialty = 'Médecine générale', 42, 90) FROM practitioners p
WHERE (p.specialty = 'Médecine générale' OR MOD(p.id, 2) = 0)
  AND NOT EXISTS (SELECT 1 FROM appt_agendas a WHERE a.practitioner_id = p.id);

INSERT INTO appt_agendas (office_name, office_address, office_postal_code, office_city,
                          horizon_days)
SELECT o.name, o.address, o.postal_code, o.city, 30
FROM (SELECT 'Accueil CPAM de Paris 15e' AS name, '21 rue Georges Pitard' AS address,
             '75015' AS postal_code, 'Paris' AS city
      UNION ALL SELECT 'Accueil CPAM de la Gironde', '5 place de l''Europe', '33000', 'Bordeaux'
      UNION ALL SELECT 'Accueil CPAM du Rhône', '276 cours Émile Zola', '69100', 'Villeurbanne'
      UNION ALL SELECT 'Accueil CPAM de Lille-Douai', '2 rue d''Iéna', '59000', 'Lille') o
WHERE NOT EXISTS (SELECT 1 FROM appt_agendas a WHERE a.office_name = o.name);

-- Weekdays: practitioners 08:30-12:00 and 14:00-18:30 (one in three also
-- Saturday 09:00-12:00, one in four starts at 09:00); offices
-- 08:30-12:30 and 13:30-16:30.
INSERT INTO appt_hours (agenda_id, weekday, opens, closes)
SELECT a.id, d.n, r.opens + IF(r.opens = 510 AND MOD(a.id, 4) = 0, 30, 0), r.closes
FROM appt_agendas a
CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5) d
CROSS JOIN (SELECT 510 AS opens, 720 AS closes UNION ALL SELECT 840, 1110) r
WHERE a.practitioner_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM appt_hours h WHERE h.agenda_id = a.id);

INSERT INTO appt_hours (agenda_id, weekday, opens, closes)
SELECT a.id, 6, 540, 720 FROM appt_agendas a
WHERE a.practitioner_id IS NOT NULL AND MOD(a.id, 3) = 0
  AND NOT EXISTS (SELECT 1 FROM appt_hours h WHERE h.agenda_id = a.id AND h.weekday = 6);

INSERT INTO appt_hours (agenda_id, weekday, opens, closes)
SELECT a.id, d.n, r.opens, r.closes
FROM appt_agendas a
CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5) d
CROSS JOIN (SELECT 510 AS opens, 750 AS closes UNION ALL SELECT 810, 990) r
WHERE a.practitioner_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM appt_hours h WHERE h.agenda_id = a.id);

INSERT IGNORE INTO appt_kinds (agenda_id, kind, minutes)
SELECT a.id, k.kind, k.minutes FROM appt_agendas a
CROSS JOIN (SELECT 'first' AS kind, 30 AS minutes UNION ALL SELECT 'followup', 20) k
WHERE a.practitioner_id IS NOT NULL;

INSERT IGNORE INTO appt_kinds (agenda_id, kind, minutes)
SELECT a.id, 'adviser', 30 FROM appt_agendas a WHERE a.practitioner_id IS NULL;

-- Christmas: closed from 24 December 18:00 to 26 December 00:00 (Paris,
-- UTC+1 in winter).
INSERT INTO appt_closures (agenda_id, starts_at, ends_at, reason)
SELECT a.id, TIMESTAMP(CONCAT(y.y, '-12-24 17:00:00')), TIMESTAMP(CONCAT(y.y, '-12-25 23:00:00')),
       'Fermeture de Noël'
FROM appt_agendas a CROSS JOIN (SELECT YEAR(UTC_DATE()) AS y
                                UNION ALL SELECT YEAR(UTC_DATE()) + 1) y
WHERE NOT EXISTS (SELECT 1 FROM appt_closures c WHERE c.agenda_id = a.id
                  AND c.reason = 'Fermeture de Noël'
                  AND YEAR(c.starts_at) = y.y);

-- The demo member (Marie Dupont), when her account exists: two upcoming
-- appointments (her médecin traitant, then the fund office), three past
-- ones (one cancelled), and a waitlist entry for an earlier slot with her
-- doctor. Her doctor: the core's member_doctors row, or the one coverage's
-- seed will declare (the first GP of her city).
CREATE TEMPORARY TABLE appt_seed_demo AS
SELECT m.id AS member_id,
       (SELECT a.id FROM appt_agendas a WHERE a.practitioner_id = COALESCE(
            (SELECT d.practitioner_id FROM member_doctors d WHERE d.insured_id = i.id),
            (SELECT MIN(p.id) FROM practitioners p
             WHERE p.specialty = 'Médecine générale' AND p.city = i.city),
            (SELECT MIN(p.id) FROM practitioners p WHERE p.specialty = 'Médecine générale')))
           AS doctor_agenda,
       COALESCE((SELECT MIN(a.id) FROM appt_agendas a WHERE a.office_city = i.city),
                (SELECT MIN(a.id) FROM appt_agendas a WHERE a.practitioner_id IS NULL))
           AS office_agenda,
       (SELECT MIN(a.id) FROM appt_agendas a JOIN practitioners p ON p.id = a.practitioner_id
        WHERE p.specialty <> 'Médecine générale') AS other_agenda,
       -- The next weekday at least five days ahead.
       UTC_DATE() + INTERVAL 5 DAY + INTERVAL IF(WEEKDAY(UTC_DATE() + INTERVAL 5 DAY) >= 5,
           7 - WEEKDAY(UTC_DATE() + INTERVAL 5 DAY), 0) DAY AS d1
FROM insured i JOIN members m ON m.insured_id = i.id
WHERE i.nir = '285033306300182'
  AND NOT EXISTS (SELECT 1 FROM appt_appointments x WHERE x.member_id = m.id);

-- Paris offset for a demo day: summer time from April to October is close
-- enough for demo rows (the module computes real slots itself).
INSERT INTO appt_appointments (member_id, agenda_id, kind, start_utc, end_utc, local_day,
                               beneficiary_id, reason, status, sequence, created_at, updated_at)
SELECT v.member_id, v.agenda, v.kind,
       TIMESTAMP(v.day) + INTERVAL v.minute MINUTE
           - INTERVAL IF(MONTH(v.day) BETWEEN 4 AND 10, 2, 1) HOUR,
       TIMESTAMP(v.day) + INTERVAL (v.minute + v.len) MINUTE
           - INTERVAL IF(MONTH(v.day) BETWEEN 4 AND 10, 2, 1) HOUR,
       v.day,
       -- The specialist's appointment is for the demo member's daughter
       -- (declared by the coverage module's seed, when it ran before).
       IF(v.who = 'other', (SELECT MIN(b.id) FROM beneficiaries b
                            JOIN members mm ON mm.insured_id = b.insured_id
                            WHERE mm.id = v.member_id AND b.first_name = 'Chloé'), NULL),
       v.reason, v.status, IF(v.status = 'booked', 0, 1),
       LEAST(UTC_TIMESTAMP(), TIMESTAMP(v.day) - INTERVAL 12 DAY),
       LEAST(UTC_TIMESTAMP(), TIMESTAMP(v.day) - INTERVAL 2 DAY)
FROM (SELECT s.member_id,
             CASE r.who WHEN 'doctor' THEN s.doctor_agenda WHEN 'office' THEN s.office_agenda
                        ELSE s.other_agenda END AS agenda,
             r.who, r.kind, s.d1 + INTERVAL r.plus DAY AS day, r.minute, r.len, r.status, r.reason
      FROM appt_seed_demo s
      CROSS JOIN (SELECT 'doctor' AS who, 'followup' AS kind, 0 AS plus, 540 AS minute,
                         20 AS len, 'booked' AS status,
                         'Renouvellement d''ordonnance' AS reason
                  UNION ALL SELECT 'office', 'adviser', 7, 600, 30, 'booked', NULL
                  UNION ALL SELECT 'doctor', 'followup', -30, 540, 20, 'done', NULL
                  UNION ALL SELECT 'other', 'first', -62, 870, 30, 'done', NULL
                  UNION ALL SELECT 'doctor', 'followup', -12, 600, 20,
                                   'cancelled_by_member', NULL) r) v
WHERE v.agenda IS NOT NULL;

INSERT INTO appt_waitlist (member_id, agenda_id, kind, before_date)
SELECT s.member_id, s.doctor_agenda, 'followup', s.d1
FROM appt_seed_demo s
WHERE s.doctor_agenda IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM appt_waitlist w WHERE w.member_id = s.member_id);

DROP TEMPORARY TABLE appt_seed_demo;
