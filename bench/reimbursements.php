<?php
// The PHP-FPM peer of bench/run's reimbursements figure: the same route as
// GET /api/v1/reimbursements?limit=20 for a member session, written as a
// plain PHP script would be: PDO (persistent connection, real prepared
// statements), the session cookie hashed as the core does, the module's
// page and totals queries, JSON out.
$db = new PDO('mysql:unix_socket=' . getenv('BENCH_DB_SOCKET') . ';dbname=' . getenv('BENCH_DB_NAME')
              . ';charset=utf8mb4', 'root', null,
              [PDO::ATTR_PERSISTENT => true, PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
               PDO::ATTR_EMULATE_PREPARES => false]);
header('Content-Type: application/json');
header('Cache-Control: no-store');
$token = $_COOKIE['__Host-portail_session'] ?? '';
$member = 0;
if (strlen($token) === 43) {
    try {
        $raw = sodium_base642bin($token, SODIUM_BASE64_VARIANT_URLSAFE_NO_PADDING);
        $q = $db->prepare("SELECT principal_id FROM sessions WHERE token_hash = ? AND kind = 'member' "
                          . "AND level = 1 AND expires_at > UTC_TIMESTAMP()");
        $q->execute([sodium_crypto_generichash($raw, '', 32)]);
        $member = (int)$q->fetchColumn();
    } catch (SodiumException $e) {
        $member = 0;
    }
}
if ($member <= 0) {
    http_response_code(401);
    echo '{"status":401}';
    exit;
}
$where = "WHERE m.id = ? AND p.cancelled_by IS NULL "
    . "AND p.care_date >= GREATEST(?, DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)) "
    . "AND p.care_date <= ? AND (? = 0 OR p.beneficiary_id <=> NULLIF(?, 0)) "
    . "AND (? = '' OR p.kind = ?) AND (? = '' OR p.status = ?) ";
$filter = "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id " . $where;
$args = [$member, '1900-01-01', '9999-12-31', 0, 0, '', '', '', ''];
$limit = 20;
$q = $db->prepare("SELECT p.id, p.beneficiary_id, COALESCE(CONCAT(b.first_name, ' ', "
    . "b.last_name), CONCAT(i.first_name, ' ', i.last_name)) AS beneficiary, p.care_date, "
    . "p.practitioner_name, "
    . "p.practitioner_specialty, p.kind, p.act_code, p.act_label, p.charged_cents, p.base_cents, "
    . "p.rate_pct, p.participation_cents, p.franchise_cents, p.reimbursed_cents, p.paid_to, "
    . "p.status, p.reject_reason, p.received_on, p.processing_on, p.paid_on, "
    . "p.expected_payment_on FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "
    . "JOIN insured i ON i.id = m.insured_id LEFT JOIN beneficiaries b ON b.id = p.beneficiary_id "
    . $where
    . "AND (? = 0 OR p.care_date < ? OR (p.care_date = ? AND p.id < ?)) "
    . "ORDER BY p.care_date DESC, p.id DESC LIMIT ?");
$q->execute(array_merge($args, [0, '9999-12-31', '9999-12-31', 0, $limit + 1]));
$items = $q->fetchAll(PDO::FETCH_ASSOC);
$next = null;
if (count($items) > $limit) {
    array_pop($items);
    $last = $items[$limit - 1];
    $next = $last['care_date'] . '.' . $last['id'];
}
$q = $db->prepare("SELECT COUNT(*) AS count, COALESCE(SUM(p.reimbursed_cents), 0) AS reimbursed_cents, "
    . "COALESCE(SUM(p.participation_cents), 0) AS participation_cents, "
    . "COALESCE(SUM(p.franchise_cents), 0) AS franchise_cents, "
    . "COALESCE(SUM(p.charged_cents), 0) AS charged_cents " . $filter);
$q->execute($args);
$totals = array_map('intval', $q->fetch(PDO::FETCH_ASSOC));
$totals['deductions_cents'] = $totals['participation_cents'] + $totals['franchise_cents'];
echo json_encode(['items' => $items, 'totals' => $totals, 'next_cursor' => $next],
                 JSON_UNESCAPED_UNICODE);
