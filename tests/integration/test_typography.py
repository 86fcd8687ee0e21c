"""French typography (issue 15): a no-break space (U+00A0 or U+202F) before
? ! : ; and inside « », and the typographic apostrophe ’.

- every page's text: web/ as shipped; text nodes and the human-readable
  attributes, never scripts, styles or URLs (`script/typography-fix FILE...`
  mends a page);
- every text of the catalogue (texts/*.json: the pages' scripts' texts and
  the API's messages, texts/README.md), a {name} read as a word;
- the French strings left in the pages' scripts (web/js/, modules/*/web/js/;
  not the DSFR's or zxcvbn's) and in the C sources (core/, modules/: API
  messages, letters, the audit's labels, portailctl's output), and the mail
  templates (mail/). A string literal is French when it has an accented
  letter, a guillemet or ’, or two French words; selectors, URLs, keys, SQL
  and log lines in English are not. A template literal's ${...} reads as a
  letter ("X"), escapes are decoded (\\u00a0 is a no-break space)."""

import json
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
# « then anything but a no-break space, or » after anything but one.
BARE_GUILLEMET = re.compile(r"«(?![\u00a0\u202f])|(?<![\u00a0\u202f])»")


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
    if BARE_GUILLEMET.search(text):
        out.append("no-break space missing inside « » in %r" % text.strip()[:80])
    return out


def test_the_rules_catch_what_they_should():
    assert faults("Pour qui ?") and faults("Mot de passe oublié?") and faults("l'assuré")
    assert faults("« Portail »") and faults("«\u00a0Portail »")
    assert not faults("Pour qui\u00a0?") and not faults("l’assuré")
    assert not faults("«\u00a0Portail\u202f»")
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


# ---- strings of the scripts, the C sources and the mail templates --------

FRENCH_WORDS = re.compile(
    r"(?i)(?<![\w-])(le|la|les|des|du|une|un|est|sont|pas|vous|votre|vos|et|pour|avec|dans"
    r"|sur|aux|au|ce|cette|ces|qui|que|ne|ni|il|elle|ou|oui|non|plus|mon|ma|mes|nous|en|de|par"
    r"|sans|si|se|sa|son|ses|leur)(?![\w-])"
)
FRENCH_SIGNS = re.compile(r"[àâäçéèêëîïôöûùüÿœæÀÂÇÉÈÊËÎÏÔÛÙŒ’«»]")
SQL = re.compile(r"\b(SELECT|FROM|WHERE|INSERT INTO|UPDATE|DELETE FROM|ORDER BY|VALUES)\b")
# portailctl's and the logs' "program: command: " prefix is not a sentence,
# nor a URL's scheme (a fragment may end with href="tel:).
PROGRAM_PREFIX = re.compile(r"^(?:[a-z][a-z0-9_.-]*: )+")
URL = re.compile(r"\b(?:https?|tel|mailto):\S*")


def french(text):
    if SQL.search(text):
        return False
    words = {w.lower() for w in FRENCH_WORDS.findall(text)}
    return bool(FRENCH_SIGNS.search(text)) or len(words) >= 2


def _skip_comment(src, i):
    """The index after the comment starting at i, or None."""
    if src.startswith("//", i):
        j = src.find("\n", i)
        return len(src) if j < 0 else j
    if src.startswith("/*", i):
        j = src.find("*/", i + 2)
        return len(src) if j < 0 else j + 2
    return None


def _skip_blank(src, i, line):
    """(index, line) after the comment or the white space at i, or None."""
    end = _skip_comment(src, i)
    if end is not None:
        return end, line + src.count("\n", i, end)
    if src[i].isspace():
        return i + 1, line + (src[i] == "\n")
    return None


def _quoted(src, i, q):
    """(end, raw body) of the quoted literal opening at i."""
    j = i + 1
    while j < len(src) and src[j] != q and src[j] != "\n":
        j += 2 if src[j] == "\\" else 1
    return j + 1, src[i + 1 : j]


JS_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)


def js_unescape(s):
    def one(m):
        e = m.group(1)
        if e.startswith("u{"):
            return chr(int(e[2:-1], 16))
        if e[0] in "ux" and len(e) > 1:
            return chr(int(e[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(e, e)

    return JS_ESCAPE.sub(one, s)


# After these a "/" opens a regular expression, not a division.
JS_BEFORE_REGEX = set("(,=:[!&|?{};+-*%<>~^") | {
    "", "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw",
}


def js_strings(src):
    """(line, text) of every string and template literal of a script, its
    escapes decoded; a template's ${...} reads as "X"."""
    out, i, line, last = [], 0, 1, ""

    def template(i):
        j, buf = i + 1, []
        while j < len(src) and src[j] != "`":
            if src[j] == "\\":
                buf.append(src[j : j + 2])
                j += 2
            elif src.startswith("${", j):
                depth, j = 1, j + 2
                while j < len(src) and depth:
                    c = src[j]
                    if c in "'\"":
                        j = _quoted(src, j, c)[0]
                        continue
                    if c == "`":
                        j = template(j)[0]
                        continue
                    depth += {"{": 1, "}": -1}.get(c, 0)
                    j += 1
                buf.append("X")
            else:
                buf.append(src[j])
                j += 1
        return j + 1, "".join(buf)

    while i < len(src):
        c = src[i]
        blank = _skip_blank(src, i, line)
        if blank:
            i, line = blank
        elif c in "'\"`":
            end, body = _quoted(src, i, c) if c != "`" else template(i)
            out.append((line, js_unescape(body)))
            line += src.count("\n", i, end)
            i, last = end, "string"
        elif c == "/" and last in JS_BEFORE_REGEX:
            j, in_class = i + 1, False
            while j < len(src) and src[j] != "\n" and (src[j] != "/" or in_class):
                if src[j] == "\\":
                    j += 1
                elif src[j] in "[]":
                    in_class = src[j] == "["
                j += 1
            i, last = j + 1, "regex"
        else:
            m = re.match(r"[A-Za-z_$][\w$]*|\d[\w.]*", src[i : i + 100])
            last = m.group(0) if m else c
            i += len(last) if m else 1
    return out


C_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]+|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)", re.S)


def c_unescape(s):
    def one(m):
        e = m.group(1)
        if e[:1] in (b"u", b"U"):
            return chr(int(e[1:], 16)).encode()
        if e[:1] == b"x":
            return bytes([int(e[1:], 16) & 0xFF])
        if e[:1].isdigit():
            return bytes([int(e, 8) & 0xFF])
        return {b"n": b"\n", b"t": b"\t", b"r": b"\r"}.get(e, e)

    return C_ESCAPE.sub(one, s.encode()).decode("utf-8", "replace")


def c_strings(src):
    """(line, text) of every string literal of a C source, adjacent ones
    joined as the compiler joins them (a macro between two ends the run),
    escapes decoded; #include lines and character constants skipped."""
    out, i, line, run, run_line = [], 0, 1, None, 0
    while i < len(src):
        c = src[i]
        blank = _skip_blank(src, i, line)
        if blank:
            i, line = blank
            continue
        if c == '"':
            end, body = _quoted(src, i, c)
            if run is None:
                run, run_line = "", line
            run += body
            i = end
            continue
        if run is not None:
            out.append((run_line, c_unescape(run)))
            run = None
        if c == "'":
            i = _quoted(src, i, c)[0]
        elif c == "#" and re.match(r"#\s*include\b", src[i : i + 40]):
            end = src.find("\n", i)
            i = len(src) if end < 0 else end
        else:
            i += 1
    if run is not None:
        out.append((run_line, c_unescape(run)))
    return out


def template_strings(src):
    """A mail template's lines, its {{variables}} read as "X"."""
    return [(n, re.sub(r"\{\{\w+\}\}", "X", t)) for n, t in enumerate(src.splitlines(), 1)]


def catalogue_strings(src):
    """A catalogue's texts (texts/fr.json), on the lines of their keys, its
    {names} read as "X"."""
    lines = src.splitlines()
    out = []
    for key, text in json.loads(src).items():
        line = next((n for n, t in enumerate(lines, 1) if t.lstrip().startswith(json.dumps(key))), 0)
        out.append((line, re.sub(r"\{\w+\}", "X", text)))
    return out


READERS = {
    ".js": js_strings, ".c": c_strings, ".h": c_strings, ".txt": template_strings, ".json": catalogue_strings,
}


def sources():
    copies = {d.parent for d in WEB.glob("*/.portail-module-pages")}
    copies |= {WEB / "dsfr", WEB / "zxcvbn", WEB / "partials" / "marque"}
    scripts = [p for p in WEB.rglob("*.js") if not any(c in p.parents for c in copies)]
    scripts += ROOT.glob("modules/*/web/**/*.js")
    c = [*ROOT.glob("core/**/*.[ch]"), *ROOT.glob("modules/**/*.[ch]")]
    mails = [*ROOT.glob("mail/*.txt"), *ROOT.glob("modules/*/mail/*.txt")]
    return sorted(scripts + c + mails + list(ROOT.glob("texts/*.json")))


def string_faults(path, strings, all_french=False):
    """A mail template is French text through and through: every line is."""
    bad = []
    for line, text in strings:
        if all_french or french(text):
            sentence = PROGRAM_PREFIX.sub("", URL.sub("URL", text))
            bad += ["%s:%d: %s" % (path, line, f) for f in faults(sentence)]
    return bad


def test_the_string_readers_find_french_text_and_only_it():
    js = js_strings(
        "const a = document.querySelector(\"input[name='nir']\"); // l'assuré :\n"
        "const r = /'/g, d = x / 2, u = 'https://exemple.fr/a?b=c';\n"
        "say(`Motif de l’annulation : ${m.why ? 'oui' : \"non\"}`);\n"
        "say('Pour qui\\u00a0?'); say(\"Vous n'avez rien envoyé.\");\n"
    )
    bad = string_faults("x.js", js)
    assert len(bad) == 2, bad
    assert bad[0].startswith("x.js:3: no-break space missing before ':'")
    assert bad[1].startswith("x.js:4: straight apostrophe")
    c = c_strings(
        '#include "portail/log.h"\n'
        'char q = \'"\'; log("jobs: %s: %d done", k, n); /* "d\'un" : */\n'
        'sql("SELECT a FROM t WHERE b = ?");\n'
        'problem(ctx, "Le paramètre « %s » doit être "\n'
        '             "un entier\\u00a0; au plus %d.", "x");\n'
        'puts("portailctl: demo: base marquée\\xc2\\xa0: rien à faire");\n'
    )
    assert [t for _, t in c if french(t)] == [
        "Le paramètre « %s » doit être un entier\u00a0; au plus %d.",
        "portailctl: demo: base marquée\u00a0: rien à faire",
    ]
    bad = string_faults("x.c", c)
    assert len(bad) == 1 and bad[0].startswith("x.c:4: no-break space missing inside « »"), bad
    cat = catalogue_strings('{\n  "a.b": "Pour qui ?",\n  "a.c": "Bonjour {nom}\u00a0!"\n}\n')
    assert cat == [(2, "Pour qui ?"), (3, "Bonjour X\u00a0!")]
    assert string_faults("fr.json", cat, all_french=True) == [
        "fr.json:2: no-break space missing before '?' in 'Pour qui ?'"
    ]
    mail = template_strings("Objet : {{code}}\n\n{{greeting}}\n{{origin}}/connexion.html\n")
    assert string_faults("m.txt", mail, all_french=True) == [
        "m.txt:1: no-break space missing before ':' in 'Objet : X'"
    ]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_french_strings_follow_french_typography(path):
    strings = READERS[path.suffix](path.read_text(encoding="utf-8"))
    bad = string_faults(path.relative_to(ROOT), strings, all_french=path.suffix in (".txt", ".json"))
    assert not bad, "\n".join(bad)
