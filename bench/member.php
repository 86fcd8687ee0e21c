<?php
// The PHP-FPM peer of bench/run's member routes (bench/member_floor.c is
// their floor): what a team would write instead of portaild, as a plain PHP
// script: PDO (persistent connection, native prepares), the session cookie
// hashed as the core does, the core's session statement, then the route's
// statements, JSON out. The route is the last segment of the path
// (/php/ROUTE; nginx sends the same parameters as to portaild): me
// (GET /api/v1/me), messages (GET /api/v1/messages?limit=20), appointments
// (GET /api/v1/appointments?limit=20), reimbursements
// (GET /api/v1/reimbursements?limit=20: the page and the 27 months' totals).
$db = new PDO('mysql:unix_socket=' . getenv('BENCH_DB_SOCKET') . ';dbname=' . getenv('BENCH_DB_NAME')
              . ';charset=utf8mb4', 'root', null,
              [PDO::ATTR_PERSISTENT => true, PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
               PDO::ATTR_EMULATE_PREPARES => false]);
header('Content-Type: application/json');
header('Cache-Control: no-store');
const PAGE = 20;

function iso($v) { return $v === null ? null : str_replace(' ', 'T', $v) . 'Z'; }

// The session, as core/session.c reads it (defaults: touch 60 s, idle 1800 s).
$token = $_COOKIE['__Host-portail_session'] ?? '';
$member = 0;
$session_id = 0;
if (strlen($token) === 43) {
    try {
        $hash = sodium_crypto_generichash(
            sodium_base642bin($token, SODIUM_BASE64_VARIANT_URLSAFE_NO_PADDING), '', 32);
        $q = $db->prepare("SELECT s.id, s.kind, s.principal_id, s.level, s.role, s.csrf_token, "
            . "s.last_seen_at < UTC_TIMESTAMP() - INTERVAL ? SECOND AS stale, "
            . "a.id IS NOT NULL AND a.disabled_at IS NULL AS agent_enabled, a.role AS agent_role "
            . "FROM sessions s LEFT JOIN agents a ON s.kind = 'agent' AND a.id = s.principal_id "
            . "WHERE s.token_hash = ? AND s.expires_at > UTC_TIMESTAMP() "
            . "AND s.last_seen_at > UTC_TIMESTAMP() - INTERVAL ? SECOND");
        $q->execute([60, $hash, 1800]);
        $s = $q->fetch(PDO::FETCH_ASSOC);
        if ($s && $s['kind'] === 'member' && (int)$s['level'] === 1 && strlen($s['csrf_token']) === 64) {
            $member = (int)$s['principal_id'];
            $session_id = (int)$s['id'];
            if ($s['stale']) {
                $db->prepare("UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(), ip = ?, country = ? "
                             . "WHERE id = ?")->execute([$_SERVER['REMOTE_ADDR'] ?? '', null, $s['id']]);
            }
        }
    } catch (SodiumException $e) {
        $member = 0;
    }
}
if ($member <= 0) {
    http_response_code(401);
    echo '{"status":401}';
    exit;
}

$route = basename($_SERVER['DOCUMENT_URI'] ?? '');
if ($route === 'me') {
    // The member and the sign-in before this session's in one statement
    // (modules/login/sessions.c).
    $q = $db->prepare("SELECT m.id, i.nir, i.first_name, i.last_name, i.birth_date, m.email, i.fund, "
        . "m.totp_enabled_at IS NOT NULL AS totp_enabled, "
        . "(SELECT COUNT(*) FROM member_recovery_codes r WHERE r.member_id = m.id "
        . "AND r.used_at IS NULL) AS recovery_codes_left, l.at, l.ip, l.country, l.user_agent "
        . "FROM members m JOIN insured i ON i.id = m.insured_id "
        . "LEFT JOIN (SELECT e.created_at AS at, e.ip, e.country, e.user_agent "
        . "FROM security_events e WHERE e.member_id = ? AND e.kind = ? AND e.created_at < "
        . "(SELECT s.created_at FROM sessions s WHERE s.id = ?) ORDER BY e.id DESC LIMIT 1) l "
        . "ON TRUE WHERE m.id = ?");
    $q->execute([$member, 'login_succeeded', $session_id, $member]);
    $me = $q->fetch(PDO::FETCH_ASSOC);
    $me['totp_enabled'] = $me['totp_enabled'] == 1;
    $last = null;
    if ($me['at'] !== null) {
        $last = ['at' => iso($me['at']), 'ip' => $me['ip'], 'country' => $me['country'],
                 'user_agent' => $me['user_agent']];
    }
    unset($me['at'], $me['ip'], $me['country'], $me['user_agent']);
    $me['last_sign_in'] = $last;
    echo json_encode($me, JSON_UNESCAPED_UNICODE);
} elseif ($route === 'messages') {
    $labels = ['REMB' => 'Mes remboursements', 'VITALE' => 'Ma carte Vitale',
               'IJ' => 'Mes indemnités journalières', 'SITU' => 'Changement de situation',
               'RECL' => 'Réclamation'];
    $q = $db->prepare("SELECT t.id, t.service, t.subject, t.status, t.created_at, t.last_activity_at, "
        . "t.last_message_id, t.last_author, "
        . "(SELECT COUNT(*) FROM messaging_messages m WHERE m.thread_id = t.id AND "
        . "m.author = 'agent' AND m.read_at IS NULL) AS unread, "
        . "(SELECT COUNT(*) FROM messaging_messages u WHERE u.member_id = ? AND "
        . "u.author = 'agent' AND u.read_at IS NULL) AS unread_total "
        . "FROM messaging_threads t WHERE t.member_id = ? AND t.archived = 0 "
        . "AND (? = 0 OR t.last_message_id < ?) "
        . "AND (? IS NULL OR t.subject LIKE ? OR EXISTS (SELECT 1 FROM messaging_messages b "
        . "WHERE b.thread_id = t.id AND b.member_id = ? AND b.body LIKE ?)) "
        . "ORDER BY t.last_message_id DESC LIMIT ?");
    $q->execute([$member, $member, 0, 0, null, null, $member, null, PAGE + 1]);
    $rows = $q->fetchAll(PDO::FETCH_ASSOC);
    // The unread total comes with each row; a page without rows asks for it.
    $unread = $rows ? (int)$rows[0]['unread_total'] : null;
    $next = null;
    if (count($rows) > PAGE) {
        array_pop($rows);
        $next = (string)$rows[PAGE - 1]['last_message_id'];
    }
    foreach ($rows as &$r) {
        $r['created_at'] = iso($r['created_at']);
        $r['last_activity_at'] = iso($r['last_activity_at']);
        unset($r['unread_total']);
        $r['service_label'] = $labels[$r['service']] ?? '';
    }
    unset($r);
    if ($unread === null) {
        $q = $db->prepare("SELECT COUNT(*) AS n FROM messaging_messages WHERE "
            . "member_id = ? AND author = 'agent' AND read_at IS NULL");
        $q->execute([$member]);
        $unread = (int)$q->fetchColumn();
    }
    echo json_encode(['threads' => $rows, 'unread' => $unread, 'next_cursor' => $next],
                     JSON_UNESCAPED_UNICODE);
} elseif ($route === 'appointments') {
    $kinds = ['first' => 'Première consultation', 'followup' => 'Consultation de suivi',
              'adviser' => 'Rendez-vous avec un conseiller'];
    $q = $db->prepare("SELECT x.id, x.member_id, x.kind, x.start_utc AS start, x.end_utc AS end, "
        . "x.beneficiary_id, CONCAT(bb.first_name, ' ', bb.last_name) AS beneficiary, x.reason, x.status, x.sequence, x.cancel_reason, x.created_at, x.updated_at, "
        . "x.held_until, a.id AS agenda_id, "
        . "IF(a.practitioner_id IS NULL, 'office', 'practitioner') AS agenda_type, "
        . "COALESCE(CONCAT('Dr ', p.first_name, ' ', p.last_name), a.office_name) AS agenda_name, "
        . "COALESCE(p.specialty, 'Accueil de la caisse') AS agenda_specialty, "
        . "COALESCE(p.address_line, a.office_address) AS agenda_address, "
        . "COALESCE(p.postal_code, a.office_postal_code) AS agenda_postal_code, "
        . "COALESCE(p.city, a.office_city) AS agenda_city, a.practitioner_id, a.horizon_days, "
        . "(SELECT GROUP_CONCAT(CONCAT(k.kind, ':', k.minutes) ORDER BY k.kind SEPARATOR ',') "
        . "FROM appt_kinds k WHERE k.agenda_id = a.id) AS agenda_kinds "
        . "FROM appt_appointments x JOIN appt_agendas a ON a.id = x.agenda_id "
        . "LEFT JOIN practitioners p ON p.id = a.practitioner_id "
        . "LEFT JOIN beneficiaries bb ON bb.id = x.beneficiary_id "
        . "WHERE x.member_id = ? AND x.status <> 'held' "
        . "AND x.start_utc > UTC_TIMESTAMP() AND (? = 0 OR x.start_utc > "
        . "FROM_UNIXTIME(?) OR (x.start_utc = FROM_UNIXTIME(?) AND x.id > ?)) "
        . "ORDER BY x.start_utc, x.id LIMIT ?");
    $q->execute([$member, 0, 0, 0, 0, PAGE + 1]);
    $rows = $q->fetchAll(PDO::FETCH_ASSOC);
    $next = null;
    if (count($rows) > PAGE) {
        array_pop($rows);
        $last = $rows[PAGE - 1];
        $next = strtotime($last['start'] . ' UTC') . '.' . $last['id'];
    }
    $now = time();
    $items = [];
    foreach ($rows as $r) {
        $visit = [];
        $mins = [];
        foreach (explode(',', (string)$r['agenda_kinds']) as $km) {
            $p = explode(':', $km);
            if (count($p) === 2) $mins[$p[0]] = (int)$p[1];
        }
        foreach ($kinds as $code => $label) {
            if (($mins[$code] ?? 0) > 0) $visit[] = ['code' => $code, 'label' => $label, 'minutes' => $mins[$code]];
        }
        $until = strtotime($r['start'] . ' UTC') - 24 * 3600;
        $items[] = [
            'id' => $r['id'], 'kind' => $r['kind'], 'start' => iso($r['start']), 'end' => iso($r['end']),
            'beneficiary_id' => $r['beneficiary_id'], 'beneficiary' => $r['beneficiary'], 'reason' => $r['reason'], 'status' => $r['status'],
            'sequence' => $r['sequence'], 'cancel_reason' => $r['cancel_reason'],
            'created_at' => iso($r['created_at']), 'updated_at' => iso($r['updated_at']),
            'agenda' => ['id' => $r['agenda_id'], 'kind' => $r['agenda_type'], 'name' => $r['agenda_name'],
                         'specialty' => $r['agenda_specialty'], 'address_line' => $r['agenda_address'],
                         'postal_code' => $r['agenda_postal_code'], 'city' => $r['agenda_city'],
                         'visit_kinds' => $visit],
            'change_until' => gmdate('Y-m-d\TH:i:s\Z', $until),
            'can_change' => $r['status'] === 'booked' && $now < $until,
            'kind_label' => $kinds[$r['kind']] ?? '',
            'ics' => '/api/v1/appointments/' . $r['id'] . '.ics',
        ];
    }
    echo json_encode(['items' => $items, 'next_cursor' => $next], JSON_UNESCAPED_UNICODE);
} elseif ($route === 'reimbursements') {
    // modules/reimbursements' statements, the filters off as portaild binds
    // them without query parameters.
    $where = "WHERE m.id = ? AND p.cancelled_by IS NULL "
        . "AND p.care_date >= GREATEST(?, DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)) "
        . "AND p.care_date <= ? AND (? = 0 OR p.beneficiary_id <=> NULLIF(?, 0)) "
        . "AND (? = '' OR p.kind = ?) AND (? = '' OR p.status = ?) ";
    $args = [$member, '1900-01-01', '9999-12-31', 0, 0, '', '', '', ''];
    $q = $db->prepare("SELECT p.id, p.beneficiary_id, COALESCE(CONCAT(b.first_name, ' ', "
        . "b.last_name), CONCAT(i.first_name, ' ', i.last_name)) AS beneficiary, p.care_date, "
        . "p.practitioner_name, p.practitioner_specialty, p.kind, p.act_code, p.act_label, "
        . "p.charged_cents, p.base_cents, p.rate_pct, p.participation_cents, p.franchise_cents, "
        . "p.reimbursed_cents, p.paid_to, p.status, p.reject_reason, p.received_on, "
        . "p.processing_on, p.paid_on, p.expected_payment_on "
        . "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "
        . "JOIN insured i ON i.id = m.insured_id LEFT JOIN beneficiaries b ON b.id = p.beneficiary_id "
        . $where
        . "AND (? = 0 OR p.care_date < ? OR (p.care_date = ? AND p.id < ?)) "
        . "ORDER BY p.care_date DESC, p.id DESC LIMIT ?");
    $q->execute(array_merge($args, [0, '9999-12-31', '9999-12-31', 0, PAGE + 1]));
    $items = $q->fetchAll(PDO::FETCH_ASSOC);
    $next = null;
    if (count($items) > PAGE) {
        array_pop($items);
        $last = $items[PAGE - 1];
        $next = $last['care_date'] . '.' . $last['id'];
    }
    $q = $db->prepare("SELECT COUNT(*) AS count, CAST(COALESCE(SUM(p.reimbursed_cents), 0) AS SIGNED) "
        . "AS reimbursed_cents, CAST(COALESCE(SUM(p.participation_cents), 0) AS SIGNED) "
        . "AS participation_cents, CAST(COALESCE(SUM(p.franchise_cents), 0) AS SIGNED) "
        . "AS franchise_cents, CAST(COALESCE(SUM(p.charged_cents), 0) AS SIGNED) AS charged_cents, "
        . "CAST(COALESCE(SUM(p.participation_cents + p.franchise_cents), 0) AS SIGNED) "
        . "AS deductions_cents FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "
        . $where);
    $q->execute($args);
    $totals = array_map('intval', $q->fetch(PDO::FETCH_ASSOC));
    echo json_encode(['items' => $items, 'totals' => $totals, 'next_cursor' => $next],
                     JSON_UNESCAPED_UNICODE);
} else {
    http_response_code(404);
    echo '{"status":404}';
}
