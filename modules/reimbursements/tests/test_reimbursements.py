"""Module reimbursements (modules/reimbursements/): the payment lines and
their arithmetic rule, the seed's 27 months, the member's list (filters,
keyset pages stable under inserts, totals), one line with its timeline,
another member's line (404), the monthly statement PDF read back with
pdftotext, and the dashboard card. Member sessions come from testmod."""

import datetime
import subprocess
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parent.parent / "seed.sql"
API = "/api/v1/reimbursements"

COLS = ("insured_id, beneficiary_id, care_date, practitioner_name, practitioner_specialty, kind, "
        "act_code, act_label, charged_cents, base_cents, rate_pct, participation_cents, "
        "franchise_cents, reimbursed_cents, paid_to, status, reject_reason, received_on, "
        "processing_on, paid_on, expected_payment_on")


def add_line(stack, insured_id, care_date, reimbursed=1900, base=3000, rate=70, part=200,
             franchise=0, status="paid", kind="consultation", beneficiary=None,
             reason=None):
    paid_on = "'%s'" % care_date if status == "paid" else "NULL"
    expected = "NULL" if status in ("paid", "rejected") else "'%s'" % care_date
    reason_sql = "NULL" if reason is None else "'%s'" % reason
    rows = stack.sql(
        "INSERT INTO reimb_payments (%s) VALUES (%d, %s, '%s', 'Dr Test', 'Médecine générale', "
        "'%s', 'G', 'Consultation', 3000, %d, %d, %d, %d, %d, 'member', '%s', %s, '%s', '%s', "
        "%s, %s); SELECT LAST_INSERT_ID()"
        % (COLS, insured_id, "NULL" if beneficiary is None else int(beneficiary), care_date, kind, base, rate, part, franchise,
           reimbursed, status, reason_sql, care_date, care_date, paid_on, expected))
    return int(rows[0][0])


def member_client(stack, member):
    c = stack.client()
    c.test_login(kind="member", id=member.id)
    return c


@pytest.fixture
def seeded(stack):
    """A member whose insured person got the seed's history."""
    m = stack.new_member()
    stack.sql(SEED.read_text())
    return m


def test_the_database_refuses_wrong_arithmetic(stack):
    m = stack.new_member()
    d = datetime.date.today().isoformat()
    add_line(stack, m.insured_id, d)  # 3000 x 70 % - 200 = 1900
    add_line(stack, m.insured_id, d, reimbursed=606, base=1240, rate=65, part=0, franchise=200,
             kind="pharmacy")
    for kw in ({"reimbursed": 2100},  # the participation forgotten
               {"reimbursed": 1901},
               {"reimbursed": -100, "base": 100, "rate": 100, "part": 200},
               {"reimbursed": 1900, "status": "rejected", "reason": "x"},
               {"reimbursed": 0, "base": 0, "part": 0, "status": "rejected"}):  # no reason
        with pytest.raises(RuntimeError, match="CONSTRAINT"):
            add_line(stack, m.insured_id, d, **kw)
    add_line(stack, m.insured_id, d, reimbursed=0, base=0, part=0, status="rejected",
             reason="Acte hors nomenclature")


def test_seed_gives_27_months_of_realistic_lines_once(stack, seeded):
    i = seeded.insured_id
    q = "SELECT COUNT(*) FROM reimb_payments WHERE insured_id = %d" % i
    n = int(stack.sql(q)[0][0])
    assert n > 40
    stack.sql(SEED.read_text())
    assert int(stack.sql(q)[0][0]) == n  # idempotent
    span = stack.sql("SELECT COUNT(DISTINCT DATE_FORMAT(care_date, '%%Y-%%m')), "
                     "MIN(care_date) < DATE_SUB(CURDATE(), INTERVAL 25 MONTH) FROM "
                     "reimb_payments WHERE insured_id = %d" % i)
    assert int(span[0][0]) >= 26 and span[0][1] == "1", span
    gp = stack.sql("SELECT charged_cents, base_cents, rate_pct, participation_cents, "
                   "reimbursed_cents FROM reimb_payments WHERE insured_id = %d AND kind = "
                   "'consultation' LIMIT 1" % i)
    assert gp[0] == ["3000", "3000", "70", "200", "1900"]
    by = dict((k, int(c)) for k, c in stack.sql(
        "SELECT CONCAT(kind, '/', status, '/', paid_to), COUNT(*) FROM reimb_payments "
        "WHERE insured_id = %d GROUP BY 1" % i))
    assert by.get("pharmacy/paid/practitioner", 0) > 5  # tiers payant
    assert sum(v for k, v in by.items() if k.endswith("rejected/member")) == 1
    kinds = {k.split("/")[0] for k in by}
    assert {"consultation", "pharmacy", "specialist", "dentist", "lab"} <= kinds
    fr = stack.sql("SELECT MIN(franchise_cents) FROM reimb_payments WHERE insured_id = %d AND "
                   "kind = 'pharmacy'" % i)
    assert int(fr[0][0]) >= 100
    # The rule holds for every seeded line (the CHECK made sure of it).
    bad = stack.sql("SELECT COUNT(*) FROM reimb_payments WHERE status <> 'rejected' AND "
                    "reimbursed_cents <> base_cents * rate_pct DIV 100 - participation_cents "
                    "- franchise_cents")
    assert bad == [["0"]]
    # Somebody's last ten days are still being processed.
    assert int(stack.sql("SELECT COUNT(*) FROM reimb_payments WHERE status = 'processing' "
                         "AND expected_payment_on IS NOT NULL")[0][0]) > 0


def test_list_pages_filters_and_totals(stack, seeded):
    c = member_client(stack, seeded)
    total = int(stack.sql("SELECT COUNT(*) FROM reimb_payments WHERE insured_id = %d AND "
                          "care_date >= DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)"
                          % seeded.insured_id)[0][0])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        r = c.get(API, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["totals"]["count"] == total + (pages >= 2)
        seen += [(x["care_date"], x["id"]) for x in body["items"]]
        pages += 1
        if pages == 2:
            # A new payment arriving meanwhile shifts nothing.
            add_line(stack, seeded.insured_id, datetime.date.today().isoformat())
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen, reverse=True)

    r = c.get(API, params={"kind": "pharmacy", "status": "paid", "limit": 100})
    body = r.json()
    assert body["items"] and all(x["kind"] == "pharmacy" and x["status"] == "paid"
                                 for x in body["items"])
    t = body["totals"]
    assert t["reimbursed_cents"] == sum(x["reimbursed_cents"] for x in body["items"])
    assert t["franchise_cents"] == sum(x["franchise_cents"] for x in body["items"])
    assert t["deductions_cents"] == t["franchise_cents"] + t["participation_cents"]
    assert isinstance(t["reimbursed_cents"], int)
    assert all(isinstance(v, int) for v in t.values()), t

    month_ago = (datetime.date.today() - datetime.timedelta(days=60)).isoformat()
    r = c.get(API, params={"from": month_ago, "limit": 100})
    assert all(x["care_date"] >= month_ago for x in r.json()["items"])
    r = c.get(API, params={"beneficiary": "me", "status": "rejected"})
    assert r.json()["totals"]["count"] == 1
    assert r.json()["items"][0]["reject_reason"].startswith("Acte hors nomenclature")
    assert r.json()["items"][0]["beneficiary"] == "Paul Martin"
    assert r.json()["items"][0]["beneficiary_id"] is None

    # Older than 27 months: never shown, whatever `from` says.
    add_line(stack, seeded.insured_id, "2020-01-15")
    r = c.get(API, params={"from": "2019-01-01", "to": "2021-01-01"})
    assert r.json()["totals"]["count"] == 0

    for bad in ({"from": "2024-13-01"}, {"to": "2026-02-31"}, {"cursor": "2026-04-31.5"},
                {"kind": "massage"}, {"status": "x"}, {"limit": 0},
                {"limit": 1000}, {"cursor": "nope"}, {"beneficiary": "x" * 101},
                {"beneficiary": "Paul Martin"}, {"beneficiary": "0"}, {"beneficiary": "-1"}):
        r = c.get(API, params=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_days_that_do_not_exist_are_refused(stack, seeded):
    c = member_client(stack, seeded)
    for bad in ({"from": "2024-02-30"}, {"to": "2023-02-29"}, {"cursor": "2024-02-30.5"},
                {"cursor": "2024-04-31.12"}):
        r = c.get(API, params=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == list(bad)[0]
    assert c.get(API, params={"from": "2024-02-29"}).status_code == 200
    for month in ("2024-13", "2024-00", "20x4-01"):
        assert c.get(API + "/statements/%s.pdf" % month).status_code == 404, month


def test_detail_has_arithmetic_and_timeline_and_is_the_members_own(stack, seeded):
    c = member_client(stack, seeded)
    items = c.get(API, params={"kind": "consultation", "status": "paid", "limit": 1}).json()
    line = c.get(API + "/%d" % items["items"][0]["id"])
    assert line.status_code == 200
    d = line.json()
    assert d["arithmetic"] == {"base_cents": 3000, "rate_pct": 70, "gross_cents": 2100,
                               "deductions_cents": 200, "reimbursed_cents": 1900}
    assert d["deductions"] == [{"kind": "participation_forfaitaire",
                                "label": "Participation forfaitaire", "amount_cents": 200}]
    assert [s["status"] for s in d["timeline"]] == ["received", "processing", "paid"]
    assert all(s["date"] for s in d["timeline"])

    proc = c.get(API, params={"status": "processing", "limit": 1}).json()["items"]
    if proc:
        t = c.get(API + "/%d" % proc[0]["id"]).json()["timeline"]
        assert t[2]["date"] is None and t[2]["expected"]

    other = stack.new_member()
    theirs = add_line(stack, other.insured_id, datetime.date.today().isoformat())
    r = c.get(API + "/%d" % theirs)
    assert r.status_code == 404
    assert "n’existe pas" in r.json()["detail"]
    assert c.get(API + "/99999999999").status_code == 404
    assert member_client(stack, other).get(API + "/%d" % theirs).status_code == 200
    # Not signed in: nothing.
    assert stack.client().get(API).status_code == 401


def test_statement_pdf_reads_back(stack, seeded, tmp_path):
    c = member_client(stack, seeded)
    months = c.get(API + "/statements").json()["items"]
    assert len(months) >= 26
    month = months[3]
    r = c.get(month["href"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert "releve-%s.pdf" % month["month"] in r.headers["content-disposition"]
    f = tmp_path / "releve.pdf"
    f.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(f), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Relevé mensuel de remboursements" in text
    assert "Bénéficiaire : Paul Martin" in text
    assert seeded.nir in text
    total = month["reimbursed_cents"]
    assert "%d,%02d €" % (total // 100, total % 100) in text
    assert "Participations forfaitaires" in text and "plafond de 50,00 €" in text

    assert c.get(API + "/statements/2000-01.pdf").status_code == 404
    assert c.get(API + "/statements/2024-13.pdf").status_code == 404
    assert c.get(API + "/statements/nothing").status_code == 404
    # Another member's months are not this member's.
    other = stack.new_member()
    assert member_client(stack, other).get(month["href"]).status_code == 404


def test_dashboard_card(stack, seeded):
    c = member_client(stack, seeded)
    r = c.get("/api/v1/dashboard")
    assert r.status_code == 200, r.text
    assert "Mes remboursements" in r.text and "Dernier paiement" in r.text


def _card(client):
    r = client.get("/api/v1/dashboard")
    assert r.status_code == 200, r.text
    cards = [c for c in r.json()["cards"] if c.get("module") == "reimbursements"]
    assert len(cards) == 1, r.text
    return cards[0]


def test_dashboard_card_counts_since_the_last_visit(stack):
    m = stack.new_member()
    today = datetime.date.today()
    for days in (20, 5, 0):
        add_line(stack, m.insured_id, (today - datetime.timedelta(days=days)).isoformat())
    add_line(stack, m.insured_id, today.isoformat(), status="processing")  # not paid yet
    c = member_client(stack, m)

    # No earlier sign-in: the last 30 days.
    card = _card(c)
    assert card["count"] == 3 and card["since"] is None
    assert "3 paiements ces 30 derniers jours" in card["text"]

    # A sign-in 10 days ago, then this session's own sign-in: the last
    # visit is the one before the newest.
    visit = (datetime.datetime.utcnow() - datetime.timedelta(days=10)).replace(microsecond=0)
    stack.sql(
        "INSERT INTO security_events (member_id, kind, created_at) VALUES "
        "(%d, 'login_succeeded', '%s'), (%d, 'login_failed', UTC_TIMESTAMP()), "
        "(%d, 'login_succeeded', UTC_TIMESTAMP())"
        % (m.id, visit.strftime("%Y-%m-%d %H:%M:%S"), m.id, m.id))
    card = _card(c)
    assert card["since"] == visit.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert card["count"] == 2
    assert ("2 paiements depuis votre dernière visite (%s)" % visit.date().isoformat()
            in card["text"])

    # Another member's sign-ins are not this member's visits.
    other = stack.new_member()
    stack.sql("INSERT INTO security_events (member_id, kind, created_at) VALUES "
              "(%d, 'login_succeeded', UTC_TIMESTAMP()), "
              "(%d, 'login_succeeded', UTC_TIMESTAMP())" % (other.id, other.id))
    assert _card(c)["count"] == 2

    # Signed in twice today: only today's payment is new.
    stack.sql("INSERT INTO security_events (member_id, kind) VALUES (%d, 'login_succeeded')"
              % m.id)
    card = _card(c)
    assert card["count"] == 1 and "1 paiement depuis" in card["text"]


def test_beneficiaries_by_id_filter_and_statement_groups(stack):
    """The person cared for is one of the core's beneficiaries by id (NULL
    the member): the choices route, the filter by id ("me" the member),
    another member's beneficiary a 404, the statement grouped by name, and
    the database refusing a line that names another person's
    beneficiary."""
    m = stack.new_member()
    kid = stack.new_beneficiary(m.insured_id, "Léa")
    stack.sql(SEED.read_text())  # the dentist and some pharmacy lines for Léa
    c = member_client(stack, m)
    choices = c.get(API + "/beneficiaries")
    assert choices.status_code == 200, choices.text
    items = choices.json()["items"]
    assert [(b["id"], b["relation"], b["name"]) for b in items] == [
        (None, "self", "Paul Martin"), (kid, "child", "Léa Martin")]
    assert items[0]["label"] == "Moi (Paul Martin)"
    assert items[1]["label"] == "Léa Martin (enfant)"

    window = ("insured_id = %d AND cancelled_by IS NULL AND care_date >= "
              "DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)" % m.insured_id)
    theirs = int(stack.sql("SELECT COUNT(*) FROM reimb_payments WHERE %s AND beneficiary_id = %d"
                           % (window, kid))[0][0])
    mine = int(stack.sql("SELECT COUNT(*) FROM reimb_payments WHERE %s AND beneficiary_id IS NULL"
                         % window)[0][0])
    assert theirs > 5 and mine > 30
    r = c.get(API, params={"beneficiary": kid, "limit": 100})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"]["count"] == theirs == len(body["items"])
    assert {(x["beneficiary_id"], x["beneficiary"]) for x in body["items"]} == {(kid, "Léa Martin")}
    assert body["totals"]["reimbursed_cents"] == sum(x["reimbursed_cents"] for x in body["items"])
    r = c.get(API, params={"beneficiary": "me", "limit": 100})
    assert r.json()["totals"]["count"] == mine
    assert all(x["beneficiary_id"] is None and x["beneficiary"] == "Paul Martin"
               for x in r.json()["items"])
    assert c.get(API).json()["totals"]["count"] == mine + theirs

    other = stack.new_member()
    foreign = stack.new_beneficiary(other.insured_id, "Zoé")
    r = c.get(API, params={"beneficiary": foreign})
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert c.get(API, params={"beneficiary": 99999999999}).status_code == 404
    # Their own member sees Zoé among their choices, never Léa.
    other_choices = member_client(stack, other).get(API + "/beneficiaries").json()["items"]
    assert [b["id"] for b in other_choices] == [None, foreign]

    # The statement of a month with Léa's dentist and a line of the member's
    # own (the seed's history does not give the member one every month):
    # one group per person, the member first.
    month = stack.sql("SELECT DATE_FORMAT(p.care_date, '%%Y-%%m') FROM reimb_payments p "
                      "WHERE p.%s AND p.beneficiary_id = %d AND p.kind = 'dentist' "
                      "AND p.care_date < DATE_SUB(UTC_DATE(), INTERVAL 1 MONTH) "
                      "AND EXISTS (SELECT 1 FROM reimb_payments q WHERE q.%s "
                      "AND q.beneficiary_id IS NULL AND DATE_FORMAT(q.care_date, '%%Y-%%m') = "
                      "DATE_FORMAT(p.care_date, '%%Y-%%m')) ORDER BY p.care_date DESC LIMIT 1"
                      % (window.replace(" AND ", " AND p."), kid,
                         window.replace(" AND ", " AND q.")))
    assert month, "no month with both Léa's dentist and a line of the member's"
    month = month[0][0]
    pdf = c.get(API + "/statements/%s.pdf" % month)
    assert pdf.status_code == 200, pdf.text
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf.content,
                          capture_output=True, check=True).stdout.decode()
    assert "Bénéficiaire : Paul Martin" in text and "Bénéficiaire : Léa Martin" in text
    assert text.index("Bénéficiaire : Paul Martin") < text.index("Bénéficiaire : Léa Martin")

    # A line naming another person's beneficiary: the database refuses it.
    with pytest.raises(RuntimeError, match="foreign key"):
        add_line(stack, m.insured_id, datetime.date.today().isoformat(), beneficiary=foreign)
    add_line(stack, m.insured_id, datetime.date.today().isoformat(), beneficiary=kid)


def test_seed_gives_the_demo_members_children_their_lines(stack):
    """portailctl seed: the coverage module's seed declares the demo
    member's children (core rows too), and this module's seed gives them
    real lines that refer to them by id."""
    assert stack.portailctl("seed", "--count", "5").returncode == 0
    rows = stack.sql("SELECT b.first_name, COUNT(*), COUNT(DISTINCT DATE_FORMAT(p.care_date, "
                     "'%Y-%m')) FROM reimb_payments p JOIN beneficiaries b "
                     "ON b.id = p.beneficiary_id AND b.insured_id = p.insured_id "
                     "JOIN insured i ON i.id = p.insured_id "
                     "WHERE i.email = 'marie.dupont@example.fr' GROUP BY b.first_name")
    got = {r[0]: (int(r[1]), int(r[2])) for r in rows}
    assert set(got) == {"Chloé", "Lucas"}, got
    # Chloé every other month, Lucas every third (more when the person's
    # general history was made after the coverage seed: the dentist's).
    assert got["Chloé"][1] >= 12 and got["Lucas"][1] >= 8, got
    # Every beneficiary a line names is a declaration of the coverage module.
    assert stack.sql("SELECT COUNT(*) FROM reimb_payments p JOIN insured i ON i.id = p.insured_id "
                     "JOIN beneficiaries b ON b.id = p.beneficiary_id "
                     "LEFT JOIN coverage_beneficiaries c ON c.id = b.declaration_id "
                     "AND c.insured_id = b.insured_id "
                     "WHERE i.email = 'marie.dupont@example.fr' AND c.id IS NULL") == [["0"]]


def test_totals_match_the_lines_for_any_period(stack, seeded):
    """The totals of the default view (no beneficiary, kind or status
    filter) are the sums of the lines for any period, whole months or not,
    after inserts, a correction (the old line cancelled) and a deletion."""
    from conftest import agent_client
    c = member_client(stack, seeded)
    i = seeded.insured_id

    def expected(lo, hi):
        r = stack.sql(
            "SELECT COUNT(*), COALESCE(SUM(reimbursed_cents), 0), COALESCE(SUM(participation_cents), "
            "0), COALESCE(SUM(franchise_cents), 0), COALESCE(SUM(charged_cents), 0) "
            "FROM reimb_payments WHERE insured_id = %d AND cancelled_by IS NULL AND care_date >= "
            "GREATEST('%s', DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)) AND care_date <= '%s'"
            % (i, lo, hi))[0]
        n, re, pa, fr, ch = (int(v) for v in r)
        return {"count": n, "reimbursed_cents": re, "participation_cents": pa,
                "franchise_cents": fr, "charged_cents": ch, "deductions_cents": pa + fr}

    today = datetime.date.today()
    first = today.replace(day=1)
    prev_last = first - datetime.timedelta(days=1)
    periods = [("", ""), ("1900-01-01", "9999-12-31"), (first.isoformat(), ""),
               ((first - datetime.timedelta(days=200)).isoformat(), prev_last.isoformat()),
               ((today - datetime.timedelta(days=400)).isoformat(),
                (today - datetime.timedelta(days=35)).isoformat()),
               ((today - datetime.timedelta(days=3)).isoformat(), today.isoformat()),
               (prev_last.isoformat(), prev_last.isoformat()),
               ((prev_last - datetime.timedelta(days=40)).replace(day=1).isoformat(),
                (prev_last - datetime.timedelta(days=40)).replace(day=1).isoformat())]

    def check(when):
        for lo, hi in periods:
            params = {k: v for k, v in (("from", lo), ("to", hi)) if v}
            got = c.get(API, params=params).json()["totals"]
            assert got == expected(lo or "1900-01-01", hi or "9999-12-31"), (when, lo, hi)

    check("seeded")
    line = add_line(stack, i, (today - datetime.timedelta(days=45)).isoformat())
    add_line(stack, i, today.isoformat(), kind="pharmacy", reimbursed=606, base=1240, rate=65,
             part=0, franchise=200)
    check("inserted")
    a = agent_client(stack)
    r = a.post("/api/v1/backoffice/reimbursements/payments/%d/correct" % line,
               json={"base_cents": 3000, "rate_pct": 100, "participation_cents": 200,
                     "franchise_cents": 0, "reason": "Taux de 100 % (ALD)."})
    assert r.status_code == 201, r.text
    check("corrected")
    stack.sql("DELETE FROM reimb_payments WHERE id = %d" % r.json()["id"])
    stack.sql("UPDATE reimb_payments SET cancelled_by = NULL WHERE id = %d" % line)
    check("deleted")


def test_migration_converts_the_free_texts(stack):
    """sql/004 on a database of the free-text days (a scratch database with
    the core's files and this module's 001-003): a text naming one of the
    person's beneficiaries becomes its id, the person's own name NULL, and
    an unknown name NULL with its text kept in beneficiary_text."""
    root = Path(__file__).resolve().parents[3]
    db = "reimb_conv"
    stack.sql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4 "
              "COLLATE utf8mb4_unicode_ci" % (db, db))
    try:
        for f in sorted((root / "sql").glob("*.sql")):
            stack.sql(f.read_text(), database=db)
        for f in ("001_reimbursements.sql", "002_claims.sql", "003_totals_index.sql"):
            stack.sql((root / "modules/reimbursements/sql" / f).read_text(), database=db)
        stack.sql(
            "INSERT INTO insured (nir, sex, last_name, first_name, birth_date) VALUES "
            "('180057500000112', 1, 'Martin', 'Paul', '1980-05-17'); "
            "INSERT INTO members (insured_id, email) VALUES (LAST_INSERT_ID(), 'p@example.fr'); "
            "INSERT INTO beneficiaries (insured_id, relation, last_name, first_name, birth_date) "
            "SELECT id, 'child', 'Martin', 'Léa', '2016-01-01' FROM insured; "
            "INSERT INTO reimb_payments (insured_id, beneficiary, care_date, practitioner_name, "
            "practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, "
            "rate_pct, participation_cents, franchise_cents, reimbursed_cents, paid_to, status, "
            "received_on, paid_on) SELECT i.id, t.b, CURDATE(), 'Dr Test', 'Médecine générale', "
            "'consultation', 'G', 'Consultation', 3000, 3000, 70, 200, 0, 1900, 'member', 'paid', "
            "CURDATE(), CURDATE() FROM insured i, (SELECT 'Léa Martin' AS b UNION ALL "
            "SELECT 'Paul Martin' UNION ALL SELECT 'Tom Inconnu') t; "
            "INSERT INTO reimb_claims (member_id, kind, care_date, amount_paid_cents, "
            "beneficiary, expected_by) SELECT m.id, 'dentist', CURDATE(), 100, t.b, CURDATE() "
            "FROM members m, (SELECT 'Léa Martin' AS b UNION ALL SELECT 'Tom Inconnu') t",
            database=db)
        stack.sql((root / "modules/reimbursements/sql/004_beneficiary_ids.sql").read_text(),
                  database=db)
        lea = stack.sql("SELECT id FROM beneficiaries", database=db)[0][0]
        assert stack.sql("SELECT beneficiary_id, beneficiary_text FROM reimb_payments ORDER BY id",
                         database=db) == [[lea, None], [None, None], [None, "Tom Inconnu"]]
        assert stack.sql("SELECT beneficiary_id, beneficiary_text FROM reimb_claims ORDER BY id",
                         database=db) == [[lea, None], [None, "Tom Inconnu"]]
    finally:
        stack.sql("DROP DATABASE IF EXISTS %s" % db)
