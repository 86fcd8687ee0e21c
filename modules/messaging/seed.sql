-- Demo data (portailctl seed, after the core's): three threads for every
-- member who has none: one answered and unread, one answered and read, one
-- waiting for the fund. Idempotent: members with a thread are skipped.
CREATE TEMPORARY TABLE messaging_seed_members AS
SELECT m.id AS member_id FROM members m
WHERE NOT EXISTS (SELECT 1 FROM messaging_threads t WHERE t.member_id = m.id);

INSERT INTO messaging_threads (member_id, service, subject, status, created_at, last_activity_at,
                               last_author)
SELECT s.member_id, v.service, v.subject, v.status,
       UTC_TIMESTAMP() - INTERVAL v.age DAY, UTC_TIMESTAMP() - INTERVAL v.age DAY + INTERVAL 1 DAY,
       v.last_author
FROM messaging_seed_members s
CROSS JOIN (SELECT 'REMB' AS service, 'Remboursement de ma consultation du 3 mars' AS subject,
                   'answered' AS status, 9 AS age, 'agent' AS last_author
            UNION ALL SELECT 'VITALE', 'Carte Vitale perdue', 'answered', 20, 'agent'
            UNION ALL SELECT 'SITU', 'Déménagement : nouvelle adresse', 'open', 2, 'member') v;

INSERT INTO messaging_messages (thread_id, member_id, author, body, sent_at, read_at)
SELECT t.id, t.member_id, 'member',
       CASE t.service
         WHEN 'REMB' THEN 'Bonjour,\nJe n''ai pas encore reçu le remboursement de ma consultation du 3 mars chez le docteur.\nMerci de votre aide.'
         WHEN 'VITALE' THEN 'Bonjour,\nJ''ai perdu ma carte Vitale. Comment en obtenir une nouvelle ?'
         ELSE 'Bonjour,\nJe viens de déménager. Pouvez-vous mettre à jour mon adresse ?\nCordialement.'
       END,
       t.created_at, t.created_at + INTERVAL 2 HOUR
FROM messaging_threads t JOIN messaging_seed_members s ON s.member_id = t.member_id;

INSERT INTO messaging_messages (thread_id, member_id, author, body, sent_at, read_at)
SELECT t.id, t.member_id, 'agent',
       CASE t.service
         WHEN 'REMB' THEN 'Bonjour,\nVotre feuille de soins a bien été reçue. Le remboursement sera versé sous 5 jours.\nVotre caisse.'
         ELSE 'Bonjour,\nVous pouvez commander une nouvelle carte depuis votre espace, rubrique « Ma carte Vitale ».\nVotre caisse.'
       END,
       t.created_at + INTERVAL 1 DAY,
       CASE WHEN t.service = 'REMB' THEN NULL ELSE t.created_at + INTERVAL 2 DAY END
FROM messaging_threads t JOIN messaging_seed_members s ON s.member_id = t.member_id
WHERE t.service IN ('REMB', 'VITALE');

UPDATE messaging_threads t JOIN messaging_seed_members s ON s.member_id = t.member_id
SET t.last_message_id = (SELECT MAX(m.id) FROM messaging_messages m WHERE m.thread_id = t.id);

DROP TEMPORARY TABLE messaging_seed_members;
