"""Issue 14 item 1: registration proves the person holds what the fund knows
(NIR, birth date, postcode on file and the last 7 characters of the IBAN on
file); the link goes to the address on file; wrong data counts against the
person (per NIR) and answers exactly like right data."""

import re
import subprocess
import time

from login_support import fresh_ip

IBAN = "FR7630006000011234567890189"
POSTCODE = "75015"


def insured_with_proof(stack, email_on_file=True):
    """An insured person with postcode and IBAN on file, no member account."""
    m = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % m.id)
    stack.sql("UPDATE insured SET postal_code = '%s', iban = '%s'%s WHERE id = %d"
              % (POSTCODE, IBAN, "" if email_on_file else ", email = NULL", m.insured_id))
    return m


def register(c, m, typed, postcode=POSTCODE, iban_end=IBAN[-7:]):
    body = {"nir": m.nir, "birth_date": m.birth_date, "email": typed}
    if postcode is not None:
        body["postal_code"] = postcode
    if iban_end is not None:
        body["iban_end"] = iban_end
    return c.post("/api/v1/register", json=body)


def no_mail_to(stack, to, wait=1.5):
    time.sleep(wait)
    return all(x["to"] != to for x in stack.mails())


def test_a_stranger_with_nir_birth_date_and_a_typed_address_gets_no_link(stack):
    m = insured_with_proof(stack)
    c = stack.client(xff=fresh_ip())
    typed = "intrus-%d@example.fr" % m.insured_id
    r = c.post("/api/v1/register", json={"nir": m.nir, "birth_date": m.birth_date,
                                         "email": typed})
    # Without the proof fields: field errors, or the usual 202, never a link.
    assert r.status_code in (202, 422), r.text
    assert no_mail_to(stack, typed)
    assert no_mail_to(stack, m.email, wait=0)


def test_right_postcode_and_iban_end_mail_the_link_to_the_address_on_file(stack):
    m = insured_with_proof(stack)
    c = stack.client(xff=fresh_ip())
    typed = "autre-%d@example.fr" % m.insured_id
    r = register(c, m, typed, iban_end=" " + IBAN[-7:].lower())
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "pending"}
    mail = stack.wait_for_mail(lambda x: x["to"] == m.email)
    assert "/inscription/confirmation.html?token=" in mail["body"]
    assert no_mail_to(stack, typed, wait=0.5)


def test_without_an_address_on_file_the_typed_one_gets_the_link(stack):
    m = insured_with_proof(stack, email_on_file=False)
    c = stack.client(xff=fresh_ip())
    typed = "saisie-%d@example.fr" % m.insured_id
    assert register(c, m, typed).status_code == 202
    stack.wait_for_mail(lambda x: x["to"] == typed)


def test_wrong_data_answers_alike_and_throttles_the_person(stack):
    m = insured_with_proof(stack)
    wrong = [
        {"postcode": "69001"},
        {"iban_end": "0000000"},
        {"postcode": "13001", "iban_end": "1111111"},
        {"iban_end": "2222222"},
        {"postcode": "33000"},
    ]
    answers = []
    for w in wrong:   # each from its own address: the per-IP throttle is not what stops it
        answers.append(register(stack.client(xff=fresh_ip()), m, m.email, **w))
    for r in answers:
        assert r.status_code == 202, r.text
        assert r.content == answers[0].content
        assert r.headers["Content-Type"] == answers[0].headers["Content-Type"]
    assert no_mail_to(stack, m.email)
    # Counted per person without the NIR itself in the throttle table.
    assert stack.sql("SELECT COUNT(*) FROM throttle WHERE k LIKE '%%%s%%'" % m.nir) == [["0"]]
    # The person is now throttled: even right data sends nothing, same answer.
    r = register(stack.client(xff=fresh_ip()), m, m.email)
    assert r.status_code == 202 and r.content == answers[0].content
    assert no_mail_to(stack, m.email)


def test_the_seed_holds_valid_ibans_and_the_demo_person_can_register(stack):
    db = stack.fresh_database("portail_seed_iban")
    cfg = stack.write_config({"database": {"name": db}})
    r = stack.portailctl("seed", "--count", "60", config=cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = stack.sql("SELECT nir, postal_code, iban FROM insured ORDER BY id", database=db)
    assert len(rows) == 60
    ibans = [row[2] for row in rows if row[2] not in (None, "NULL")]
    assert 40 <= len(ibans) < 60          # most have one, some none
    for iban in ibans:
        assert len(iban) == 27 and iban.startswith("FR")
        digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
        assert int(digits) % 97 == 1, iban
    assert all(row[1] for row in rows)    # every person has a postcode on file
    # Marie Dupont, the demo person (README): postcode 33000, IBAN end 3026052.
    assert rows[0][0] == "285033306300182" and rows[0][1] == "33000"
    assert rows[0][2].endswith("3026052")


def wait_letter(stack, nir_, timeout=20):
    """The text of the last letter to nir_ in `portailctl letters`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = stack.portailctl("letters", "list")
        assert r.returncode == 0, r.stderr
        ids = [line.split()[0] for line in r.stdout.splitlines() if nir_ in line]
        if ids:
            shown = stack.portailctl("letters", "show", ids[-1])
            assert shown.returncode == 0, shown.stderr
            return shown.stdout
        time.sleep(0.3)
    raise AssertionError("no letter for %s" % nir_)


def test_without_an_iban_a_code_by_post_completes_registration(stack):
    m = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % m.id)
    stack.sql("UPDATE insured SET iban = NULL, address_line = '3 rue des Lilas', "
              "city = 'Paris' WHERE id = %d" % m.insured_id)
    c = stack.client(xff=fresh_ip())
    body = {"nir": m.nir, "birth_date": m.birth_date, "postal_code": m.postal_code,
            "email": m.email, "by_post": True}
    r = c.post("/api/v1/register", json=body)
    assert r.status_code == 202 and r.json() == {"status": "pending"}, r.text
    letter = wait_letter(stack, m.nir)
    assert "3 rue des Lilas" in letter and "75015" in letter and "Martin" in letter
    assert "Il est valable 30 jours et ne sert qu’une fois." in letter, letter
    code = re.search(r"Code provisoire\s*:\s*([A-Z2-9]{5}-[A-Z2-9]{5})", letter).group(1)
    # The print queue holds the letter as a PDF of the core's service too.
    pdf = bytes.fromhex(stack.sql("SELECT HEX(pdf) FROM letters WHERE insured_id = %d "
                                  "ORDER BY id DESC LIMIT 1" % m.insured_id)[0][0])
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, stdout=subprocess.PIPE,
                          check=True).stdout.decode()
    assert code in text and "3 rue des Lilas" in text and "Page 1 / 1" in text, text
    del body["by_post"]
    assert no_mail_to(stack, m.email, wait=0)
    # A wrong code: the same 202, nothing sent.
    r = c.post("/api/v1/register", json=dict(body, code="AAAAA-BBBBB"))
    assert r.status_code == 202 and r.json() == {"status": "pending"}
    assert no_mail_to(stack, m.email, wait=1)
    r = c.post("/api/v1/register", json=dict(body, code=code.lower().replace("-", " ")))
    assert r.status_code == 202, r.text
    mail = stack.wait_for_mail(lambda x: x["to"] == m.email)
    token = re.findall(r"/inscription/confirmation\.html\?token=([A-Za-z0-9_-]{43})",
                       mail["body"])[-1]
    r = c.post("/api/v1/register/confirm", json={"token": token,
                                                  "password": "Tournesol-Violon-Pirogue-19"})
    assert r.status_code == 201, r.text


def test_a_code_valid_one_day_says_so_in_the_singular(stack):
    mods = [dict(m) for m in stack.config["modules"]]
    for m in mods:
        if m["name"] == "login":
            m["settings"] = dict(m.get("settings") or {}, register_code_days=1)
    inst = stack.start_portaild({"modules": mods})
    m = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % m.id)
    stack.sql("UPDATE insured SET iban = NULL, address_line = '5 rue des Lilas', "
              "city = 'Paris' WHERE id = %d" % m.insured_id)
    c = stack.client(base_url=inst.base_url, origin=inst.origin, xff=fresh_ip())
    r = c.post("/api/v1/register", json={"nir": m.nir, "birth_date": m.birth_date,
                                         "postal_code": m.postal_code, "email": m.email,
                                         "by_post": True})
    assert r.status_code == 202, r.text
    letter = wait_letter(stack, m.nir)
    assert "Il est valable 1 jour et ne sert qu’une fois." in letter, letter
