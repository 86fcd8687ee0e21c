"""The core's field validators (core/validate.c) as the handlers of login
and unlock use them: one set of bounds for a birth date and an e-mail
address, the same French messages, and the normalised value used."""

from login_support import fresh_ip, nir, register_body


def errors(r):
    assert r.status_code == 422, r.text
    return {e["field"]: e["message"] for e in r.json()["errors"]}


ROUTES = ["/api/v1/register", "/api/v1/password/forgot"]


def test_birth_dates_have_one_set_of_bounds(stack):
    c = stack.client(xff=fresh_ip())
    good = nir("1800575115001")
    for path in ROUTES:
        body = {"nir": good, "email": "x@example.fr"}
        assert "futur" in errors(c.post(path, json=dict(body, birth_date="2999-01-01")))[
            "birth_date"]
        assert "1900" in errors(c.post(path, json=dict(body, birth_date="1899-12-31")))[
            "birth_date"]
        msg = errors(c.post(path, json=dict(body, birth_date="1981-02-29")))["birth_date"]
        assert "AAAA-MM-JJ" in msg
        assert errors(c.post(path, json=dict(body, birth_date="1980/05/17")))["birth_date"] == msg


def test_email_addresses_have_one_set_of_bounds(stack):
    c = stack.client(xff=fresh_ip())
    good = nir("1800575115001")
    for path in ROUTES:
        for bad in ["sans-arobase", "a@b", "a@@example.fr", "a b@example.fr",
                    "%s@example.fr" % ("x" * 65)]:
            r = c.post(path, json={"nir": good, "birth_date": "1980-05-17", "email": bad})
            assert errors(r)["email"] == "L’adresse e-mail n’est pas valide.", (path, bad)


def test_the_domain_is_kept_in_lower_case(stack):
    person = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % person.id)  # insured only
    stack.sql("UPDATE insured SET email = NULL WHERE id = %d" % person.insured_id)
    typed = "Casse.%d@EXAMPLE.FR" % person.insured_id
    c = stack.client(xff=fresh_ip())
    r = c.post("/api/v1/register", json=register_body(person, typed))
    assert r.status_code == 202, r.text
    m = stack.wait_for_mail(lambda m: m["to"] == "Casse.%d@example.fr" % person.insured_id)
    assert m["subject"] == "Finalisez la création de votre compte"
