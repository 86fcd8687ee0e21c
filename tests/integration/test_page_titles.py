"""Issue 15: every page's title ends with the fund's name (brand.name), from
the fragment portaild writes at start (core/brand.c, nom.html), through
web/partials/titre.html, whose SSI stub is the neutral default. No page
repeats the name by hand: a brand change needs no page edit."""

import re

import pytest

from test_typography import pages

TITLE = re.compile(r"<title>([^<]+) — <!--# include virtual=\"/partials/titre\.html\" --></title>")


def test_every_page_source_ends_its_title_with_the_brand_fragment():
    bad = []
    for p in pages():
        text = p.read_text(encoding="utf-8")
        if "<title>" not in text:
            continue  # a fragment, not a page
        if not TITLE.search(text) or text.count("<title>") != 1:
            bad.append(str(p))
    assert not bad, bad


@pytest.mark.timeout(90)
def test_served_titles_carry_the_configured_name(stack, tmp_path):
    root = stack.private_webroot(tmp_path / "web")
    inst = stack.start_portaild({"brand": {
        "name": "CPAM de Paris", "partials_dir": str(root / "partials" / "marque")}}, webroot=root)
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    for path, own in (("/connexion.html", "Se connecter"), ("/", "Accueil"),
                      ("/backoffice/", "Connexion agent"), ("/erreurs/50x.html", "Service momentanément indisponible")):
        r = c.get(path)
        assert "<title>%s — CPAM de Paris</title>" % own in r.text, (path, r.status_code)


@pytest.mark.timeout(90)
def test_without_the_fragment_the_title_gets_the_neutral_name(stack, tmp_path):
    root = stack.private_webroot(tmp_path / "web")
    inst = stack.start_portaild({"brand": {"name": "Caisse sans fragments", "partials_dir": ""}},
                                webroot=root)
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    r = c.get("/connexion.html")
    assert r.status_code == 200
    assert "<title>Se connecter — Assurance Maladie</title>" in r.text
