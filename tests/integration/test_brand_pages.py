"""Issue 15, brand: the header and footer of the pages come from the
config's brand group (core/brand.c writes their fragments at start, nginx
includes them); the République française block and the Marianne font only
for a State service; the footer links real pages (legal templates) and
never the back office; the site map lists only the enabled modules; the
lock rules say the login module's limits, "1 erreur" in the singular."""

import html
import re
from pathlib import Path

import pytest

LEGAL = ["/mentions-legales.html", "/donnees-personnelles.html", "/cookies.html",
         "/plan-du-site.html", "/accessibilite.html"]


def page(client, path):
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    text = r.text
    # An SSI include that failed would leave nginx's message in the page.
    assert "an error occurred while processing the directive" not in text, path
    assert "<!--#" not in text, path
    return text


def footer(text):
    return text[text.index('<footer class="fr-footer"'):text.index("</footer>")]


def test_the_default_header_is_neutral(stack, client):
    text = page(client, "/")
    assert "République<br>Française" not in text
    assert "/css/marianne.css" not in text
    name = stack.config.get("brand", {}).get("name", "Assurance Maladie")
    assert '<p class="fr-header__service-title">%s</p>' % name in text
    assert "neutral header: brand.state_service = false" in text


def test_the_footer_links_real_pages_and_not_the_back_office(stack, client):
    foot = footer(page(client, "/"))
    hrefs = re.findall(r'href="([^"]+)"', foot)
    for path in LEGAL:
        assert path in hrefs, (path, hrefs)
        page(client, path)
    assert not [h for h in hrefs if "backoffice" in h], hrefs
    assert "Appelez le" in foot and "36 46" in foot


def test_legal_pages_are_templates_with_marked_placeholders(stack, client):
    for path in ("/mentions-legales.html", "/donnees-personnelles.html", "/cookies.html"):
        text = page(client, path)
        assert text.count("<h1>") == 1
        assert '<span class="portail-a-completer">[À compléter' in text, path
        # Typography of the new texts: no straight apostrophe in the prose,
        # a no-break space before the colons of the placeholders.
        main = text[text.index("<main"):text.index("</main>")]
        prose = re.sub(r"<[^>]+>", "", main)
        assert "'" not in prose, path
        assert "[À compléter :" not in prose and "[À compléter\u00a0:" in prose.replace(
            "&nbsp;", "\u00a0"), path


@pytest.mark.timeout(90)
def test_a_state_service_gets_the_block_marianne_and_its_brand(stack, tmp_path):
    root = stack.private_webroot(tmp_path / "web")
    inst = stack.start_portaild({"brand": {
        "name": "Service d’État de test", "state_service": True, "logo": "/img/logo-caisse.svg",
        "logo_alt": "Logo du service", "logo_width": 160, "logo_height": 80, "phone": "39 39", "phone_note": "prix d’un appel",
        "contact_url": "/contact.html", "partials_dir": str(root / "partials" / "marque")}},
        webroot=root)
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    text = page(c, "/")
    assert '<p class="fr-logo">République<br>Française</p>' in text
    assert '<link rel="stylesheet" href="/css/marianne.css">' in text
    # Its own size: the page keeps the logo's room before it loads.
    assert ('<img class="portail-logo" src="/img/logo-caisse.svg" alt="Logo du service"'
            ' width="160" height="80">') in text
    assert '<p class="fr-header__service-title">Service d’État de test</p>' in text
    foot = footer(text)
    assert 'href="tel:3939">39 39</a> (prix d’un appel)' in foot
    assert '<a href="/contact.html">la page de contact</a>' in foot
    assert "Service d’État de test" in page(c, "/mentions-legales.html")


@pytest.mark.timeout(90)
def test_the_site_map_lists_only_the_enabled_modules(stack, tmp_path):
    root = stack.private_webroot(tmp_path / "web")
    modules = [dict(m, enabled=(m["name"] != "messaging")) for m in stack.config["modules"]]
    if not any(m["name"] == "messaging" for m in modules):
        pytest.skip("the messaging module is not built")
    inst = stack.start_portaild({"modules": modules,
                                 "brand": {"partials_dir": str(root / "partials" / "marque")}},
                                webroot=root)
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    text = page(c, "/plan-du-site.html")
    assert '<a href="/reimbursements/">Mes remboursements</a>' in text
    assert "/messaging/" not in text and "Ma messagerie" not in text
    # The stack's own site map (messaging enabled) does list it.
    assert '<a href="/messaging/">Ma messagerie</a>' in page(stack.client(), "/plan-du-site.html")


LOCK_RULES = {
    "/connexion.html": "Par sécurité, votre compte est bloqué après {n}\u00a0{erreurs} de mot de passe de suite.",
    "/code-de-securite.html": "Par sécurité, votre compte est bloqué après {n}\u00a0{codes} de suite "
                              "(codes de l’application et codes de secours).",
    "/code-de-secours.html": "Par sécurité, votre compte est bloqué après {n}\u00a0{codes} de suite "
                             "(codes de l’application et codes de secours).",
}


def lock_rule(text):
    """The sentence #regle-blocage as read: tags and comments out."""
    m = re.search(r'id="regle-blocage">(.*?)</p>', text, re.S)
    assert m, "no #regle-blocage"
    return html.unescape(re.sub(r"<!--.*?-->|<[^>]+>", "", m.group(1)))


def test_the_lock_rules_say_the_default_limits_in_the_plural(stack, client):
    for path, sentence in LOCK_RULES.items():
        assert lock_rule(page(client, path)) == sentence.format(
            n=5, erreurs="erreurs", codes="codes incorrects"), path


@pytest.mark.timeout(90)
def test_a_limit_of_one_is_said_in_the_singular(stack, tmp_path):
    # The login module's settings marked on_pages at 1: core/brand.c writes
    # the number and its plural mark (partials/reglage-s.html), "1 erreur".
    root = stack.private_webroot(tmp_path / "web")
    one = {"max_password_failures": 1, "max_code_failures": 1, "max_password_change_failures": 1}
    modules = [dict(m, settings={**m.get("settings", {}), **one}) if m["name"] == "login" else m
               for m in stack.config["modules"]]
    inst = stack.start_portaild({"modules": modules,
                                 "brand": {"partials_dir": str(root / "partials" / "marque")}},
                                webroot=root)
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    for path, sentence in LOCK_RULES.items():
        assert lock_rule(page(c, path)) == sentence.format(
            n=1, erreurs="erreur", codes="code incorrect"), path
    settings = root / "partials" / "marque" / "reglages"
    for name in one:
        assert (settings / ("login.%s.html" % name)).read_text() == "1"
        assert (settings / ("login.%s.s.html" % name)).read_text() == "<!-- singulier -->"
    # The stack's own fragments (the defaults): the mark is "s".
    assert (Path(stack.webroot) / "partials" / "marque" / "reglages"
            / "login.max_code_failures.s.html").read_text() == "s"
