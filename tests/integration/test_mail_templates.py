"""Mail texts as templates (core/template.c): one file per mail in mail/,
one signature, the fund's name from server.fund_name; a broken folder stops
portaild with one line naming the file."""

import shutil

from conftest import REPO, refuse
from conftest import fresh_ip


def copy_of_templates(tmp_path):
    d = tmp_path / "mail"
    shutil.copytree(REPO / "mail", d)
    return d


def test_fund_name_from_the_config_in_the_text_and_the_signature(stack):
    inst = stack.start_portaild({"server": {"fund_name": "la CPAM de la Gironde"},
                                 "brand": {"name": "CPAM de la Gironde"}})
    person = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % person.id)  # insured only
    stack.sql("UPDATE insured SET email = NULL WHERE id = %d" % person.insured_id)
    typed = "gironde-%d@example.fr" % person.insured_id
    c = stack.client(xff=fresh_ip(), base_url=inst.base_url, origin=inst.origin)
    r = c.post("/api/v1/register",
               json={"nir": person.nir, "birth_date": person.birth_date, "email": typed,
                     "postal_code": person.postal_code, "iban_end": person.iban_end})
    assert r.status_code == 202, r.text
    m = stack.wait_for_mail(lambda m: m["to"] == typed)
    body = m["body"].replace("\r\n", "\n")
    assert m["subject"] == "Finalisez la création de votre compte"
    assert body.startswith("Bonjour,\n\n")
    assert "sur le portail de la CPAM de la Gironde." in body
    assert "{{" not in body
    assert "La CPAM de la Gironde ne vous demandera jamais votre mot de passe" in body
    assert body.rstrip("\n").endswith(
        "merci de ne pas y répondre.\nCPAM de la Gironde"), body


def test_malformed_variable_stops_the_start(stack, tmp_path):
    d = copy_of_templates(tmp_path)
    (d / "totp_enabled.txt").write_text("Sujet\n\nBonjour {{nom\n", encoding="utf-8")
    line = refuse(stack, {"mail": {"templates": str(d)}})
    assert "totp_enabled.txt" in line and "malformed variable" in line


def test_missing_subject_line_stops_the_start(stack, tmp_path):
    d = copy_of_templates(tmp_path)
    (d / "register_done.txt").write_text("Bonjour,\nsans ligne vide\n", encoding="utf-8")
    line = refuse(stack, {"mail": {"templates": str(d)}})
    assert "register_done.txt" in line and "subject" in line


def test_missing_signature_or_core_template_stops_the_start(stack, tmp_path):
    d = copy_of_templates(tmp_path)
    (d / "signature.txt").unlink()
    assert "signature.txt is missing" in refuse(stack, {"mail": {"templates": str(d)}})
    d2 = tmp_path / "mail2"
    shutil.copytree(REPO / "mail", d2)
    (d2 / "account_locked.txt").unlink()
    assert "account_locked.txt is missing" in refuse(stack, {"mail": {"templates": str(d2)}})
    line = refuse(stack, {"mail": {"templates": str(tmp_path / "nowhere")}})
    assert "mail.templates: cannot open" in line
