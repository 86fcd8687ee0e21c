"""French typography on every page's text (issue 15): a no-break space
before ? ! : ; and the typographic apostrophe. Reads web/ as shipped; text
nodes and the human-readable attributes, never scripts, styles or URLs.
`script/typography-fix FILE...` mends a page."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
READABLE_ATTRS = {"title", "aria-label", "placeholder", "alt"}
# A letter or closing mark, then a plain space or nothing, then the sign.
MISSING_NBSP = re.compile(r"(?<=[\w»)’”])( ?)([?!:;])(?=\s|$)")
STRAIGHT_APOS = re.compile(r"(?<=[A-Za-zÀ-ÿ])'(?=[A-Za-zÀ-ÿ])")


class Texts(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.raw = 0
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.raw += 1
        for k, v in attrs:
            if k in READABLE_ATTRS and v:
                self.found.append(v)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.raw -= 1

    def handle_data(self, data):
        if not self.raw and data.strip():
            self.found.append(data)


def pages():
    """The sources: web/ without what script/web-build copies or portaild
    writes there (the DSFR, the modules' pages, the brand's fragments),
    and each module's web/."""
    copies = {d.parent for d in WEB.glob("*/.portail-module-pages")}
    copies |= {WEB / "dsfr", WEB / "partials" / "marque"}
    own = [p for p in WEB.rglob("*.html") if not any(c in p.parents for c in copies)]
    return sorted(own + list(ROOT.glob("modules/*/web/**/*.html")))


def faults(text):
    out = []
    for m in MISSING_NBSP.finditer(text):
        out.append("no-break space missing before %r in %r" % (m.group(2), text.strip()[:80]))
    if STRAIGHT_APOS.search(text):
        out.append("straight apostrophe in %r" % text.strip()[:80])
    return out


def test_the_rules_catch_what_they_should():
    assert faults("Pour qui ?") and faults("Mot de passe oublié?") and faults("l'assuré")
    assert not faults("Pour qui\u00a0?") and not faults("l’assuré")
    assert not faults("https://exemple.fr") and not faults("10:30")


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_text_follows_french_typography(page):
    p = Texts()
    p.feed(page.read_text(encoding="utf-8"))
    bad = [f for t in p.found for f in faults(t)]
    assert not bad, "\n".join(bad)


NIR_EXAMPLE = re.compile(r"Exemple(?:\s|&nbsp;)*:\s*([12](?:\s?\d){12})\s?(\d\d)")


def test_nir_examples_have_a_valid_key():
    """A member who checks the example against their card sees a real
    shape: its key is 97 minus the 13 digits modulo 97."""
    seen = 0
    for page in pages():
        for m in NIR_EXAMPLE.finditer(page.read_text(encoding="utf-8")):
            seen += 1
            digits = int(re.sub(r"\s", "", m.group(1)))
            assert int(m.group(2)) == 97 - digits % 97, (page, m.group(0))
    assert seen >= 3
