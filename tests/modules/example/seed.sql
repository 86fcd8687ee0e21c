-- Demo data (portailctl seed, after the core's seed): one note for every
-- member who has none. Idempotent, as every module seed must be.
INSERT INTO example_notes (member_id, text)
SELECT m.id, 'Penser à envoyer la feuille de soins de la pharmacie'
FROM members m
WHERE NOT EXISTS (SELECT 1 FROM example_notes n WHERE n.member_id = m.id);
