"""Issue 15, mails and brand: every mail has a text part and an HTML part
(multipart/alternative, UTF-8, quoted-printable), greets the member by name,
names the fund and says the fund never asks for a password or a code by
mail; the brand group of the config is checked at start."""

import re

import pytest

from conftest import fresh_ip, refuse, wait_mail

WARNING = "ne vous demandera jamais votre mot de passe ni un code par courriel"


def forgot(stack, member):
    c = stack.client(xff=fresh_ip())
    r = c.post("/api/v1/password/forgot",
               json={"nir": member.nir, "birth_date": member.birth_date, "email": member.email})
    assert r.status_code == 202, r.text
    return wait_mail(stack, member, "Réinitialisation de votre mot de passe")


def test_a_mail_has_both_parts_the_name_the_fund_and_the_warning(stack):
    member = stack.new_member()
    m = forgot(stack, member)
    msg = m["msg"]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["MIME-Version"] == "1.0"
    text, html = msg.get_payload()
    for part, kind in ((text, "text/plain"), (html, "text/html")):
        assert part.get_content_type() == kind
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert not msg.defects and not text.defects and not html.defects

    body = m["body"].replace("\r\n", "\n")
    hello = "Bonjour %s %s," % (member.first_name, member.last_name)
    assert body.startswith(hello + "\n\n"), body
    assert "Votre caisse d’Assurance Maladie " + WARNING + "\u00a0:" in body
    brand = stack.config.get("brand", {}).get("name", "Assurance Maladie")
    assert body.rstrip("\n").endswith("\n" + brand), body

    page = m["html"]
    assert '<html lang="fr">' in page and '<meta charset="utf-8">' in page
    assert "<p style=\"margin:0 0 16px\">%s</p>" % hello in page
    assert WARNING in page and brand in page
    # The reset link is a link in the HTML part too, the same as in the text.
    link = re.search(r"https?://\S+/mot-de-passe/reinitialisation\.html\?token=\S+", body).group(0)
    assert '<a href="%s"' % link.replace("&", "&amp;") in page


def test_a_shared_address_is_greeted_without_a_name(stack):
    """Two insured people with one address (a family's): the mail greets
    nobody by name rather than one of them in the other's mail."""
    first = stack.new_member()
    second = stack.new_member(email=first.email)
    stack.sql("UPDATE insured SET first_name = 'Zoé' WHERE id = %d" % second.insured_id)
    m = forgot(stack, first)
    body = m["body"].replace("\r\n", "\n")
    assert body.startswith("Bonjour,\n\n"), body
    assert "Zoé" not in body and first.first_name not in body.split("\n", 1)[0]


def test_the_html_part_escapes_the_text(stack, client):
    """What a mail's text carries (a member's message, a name) is text in
    the HTML part: markup comes out escaped, only addresses become links."""
    to = "html-%s@example.fr" % fresh_ip().replace(".", "-")
    body = ("Bonjour <b>Zoé</b> & co,\n\n<script>alert(1)</script>\n"
            "Lien : https://portail.example/x?a=1&b=\"2\" fin.\n")
    r = client.post("/api/v1/test/mail", json={"to": to, "subject": "Échappement <i>", "body": body})
    assert r.status_code == 202, r.text
    m = stack.wait_for_mail(lambda m: m["to"] == to)
    page = m["html"]
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Bonjour &lt;b&gt;Zoé&lt;/b&gt; &amp; co," in page
    assert "<title>Échappement &lt;i&gt;</title>" in page
    # The address stops at the quote; the quote and the final dot are text.
    assert '<a href="https://portail.example/x?a=1&amp;b=" style="color:#000091">' in page
    assert m["body"].replace("\r\n", "\n") == body


@pytest.mark.parametrize("brand,words", [
    ({"name": "CPAM <script>"}, "brand.name"),
    ({"name": ""}, "brand.name"),
    ({"name": "x" * 101}, "brand.name"),
    ({"phone_note": "a\u0007b"}, "brand.phone_note"),
    ({"logo": "../secret.key"}, "brand.logo"),
    ({"logo": "https://ailleurs.example/logo.svg"}, "brand.logo"),
    ({"contact_url": "javascript:alert(1)"}, "brand.contact_url"),
    ({"contact_url": "/contact\" onclick=\"x"}, "brand.contact_url"),
    ({"partials_dir": "var/partials"}, "brand.partials_dir"),
    ({"state_service": "oui"}, "brand.state_service"),
    ({"colour": "bleu"}, "colour"),
])
def test_a_bad_brand_stops_the_start(stack, brand, words):
    line = refuse(stack, {"brand": brand})
    assert words in line, line


def test_every_template_greets_and_keeps_its_typography():
    """Every mail of mail/ opens with {{greeting}} (the member's name), and
    its text uses typographic apostrophes and no-break spaces before : ; ? !
    (issue 15): a new template is held to the same."""
    from conftest import REPO
    for f in sorted((REPO / "mail").glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        if f.name != "signature.txt":
            subject, blank, body = text.split("\n", 2)
            assert blank == "" and body.startswith("{{greeting}}\n"), f.name
        assert "'" not in text, f.name
        assert not re.search(r" [:;?!]", text), f.name
