"""The core's beneficiaries service (core/beneficiaries.c,
portail/beneficiaries.h, table beneficiaries of sql/014), driven through
testmod: a member's choices (the member first, "moi", id null), one looked
up scoped to the member (another member's is not found), the printed name,
and a declaration written (and updated) as the coverage module writes one.
The modules' routes that use it are tested in modules/reimbursements/tests
and modules/appointments/tests."""

T = "/api/v1/test/beneficiaries"


def test_list_is_the_member_then_their_beneficiaries(stack):
    m = stack.new_member()
    c = stack.client()
    r = c.get("%s/%d" % (T, m.id))
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [{
        "id": None, "relation": "self", "first_name": "Paul", "last_name": "Martin",
        "name": "Paul Martin", "birth_date": "1980-05-17", "rights_from": None,
        "rights_to": None, "label": "Moi (Paul Martin)"}]
    young = stack.new_beneficiary(m.insured_id, "Léa", birth_date="2018-01-02")
    old = stack.new_beneficiary(m.insured_id, "Claire", relation="spouse",
                                birth_date="1981-07-08")
    items = c.get("%s/%d" % (T, m.id)).json()["items"]
    # The member, then by birth date.
    assert [(b["id"], b["relation"], b["label"]) for b in items] == [
        (None, "self", "Moi (Paul Martin)"), (old, "spouse", "Claire Martin (conjoint)"),
        (young, "child", "Léa Martin (enfant)")]
    assert items[2]["rights_to"] == "2030-12-31"
    # Unknown member: not found.
    assert c.get("%s/%d" % (T, 999999999)).status_code == 404


def test_lookup_is_scoped_to_the_member(stack):
    m, other = stack.new_member(), stack.new_member()
    mine = stack.new_beneficiary(m.insured_id, "Léa")
    theirs = stack.new_beneficiary(other.insured_id, "Zoé")
    c = stack.client()
    r = c.get("%s/%d/%d" % (T, m.id, mine))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["beneficiary"]["id"] == mine and body["name"] == "Léa Martin"
    assert body["self"] == "Paul Martin"
    assert c.get("%s/%d/%d" % (T, m.id, theirs)).status_code == 404
    assert c.get("%s/%d/%d" % (T, other.id, mine)).status_code == 404
    assert c.get("%s/%d/%d" % (T, other.id, theirs)).status_code == 200
    assert c.get("%s/%d/%d" % (T, m.id, 999999999)).status_code == 404


def test_set_inserts_updates_and_refuses_another_persons_declaration(stack):
    m, other = stack.new_member(), stack.new_member()
    # The declaring module's own id (coverage's), not the core's.
    decl_id = int(stack.sql("SELECT COALESCE(MAX(declaration_id), 0) + 1000 "
                            "FROM beneficiaries")[0][0])
    decl = {"declaration_id": decl_id, "insured_id": m.insured_id, "relation": "child",
            "first_name": "Hugo", "last_name": "Martin", "birth_date": "2014-03-04",
            "rights_from": "2014-03-04", "rights_to": "2032-03-03"}
    c = stack.client()
    r = c.post(T, json=decl)
    assert r.status_code == 200, r.text
    core_id = r.json()["id"]
    got = c.get("%s/%d/%d" % (T, m.id, core_id)).json()["beneficiary"]
    assert got["name"] == "Hugo Martin" and got["rights_to"] == "2032-03-03"
    # The same declaration again updates the same row (rights ended, a
    # corrected name).
    r = c.post(T, json=dict(decl, first_name="Hugues", rights_to="2026-01-31"))
    assert r.status_code == 200 and r.json()["id"] == core_id, r.text
    got = c.get("%s/%d/%d" % (T, m.id, core_id)).json()["beneficiary"]
    assert got["name"] == "Hugues Martin" and got["rights_to"] == "2026-01-31"
    assert [b["id"] for b in c.get("%s/%d" % (T, m.id)).json()["items"]] == [None, core_id]
    # Another insured person cannot take the row over; nothing changes.
    assert c.post(T, json=dict(decl, insured_id=other.insured_id,
                               first_name="Intrus")).status_code == 422
    assert stack.sql("SELECT insured_id, first_name FROM beneficiaries WHERE id = %d"
                     % core_id) == [[str(m.insured_id), "Hugues"]]
    # Bounded and checked inputs (a new declaration each time).
    for n, bad in enumerate(({"relation": "cousin"}, {"first_name": ""},
                             {"last_name": "x" * 101}, {"declaration_id": 0},
                             {"insured_id": 0}, {"birth_date": "2014-02-30"})):
        body = dict(decl, declaration_id=decl_id + 1 + n)
        body.update(bad)
        assert c.post(T, json=body).status_code == 422, bad
