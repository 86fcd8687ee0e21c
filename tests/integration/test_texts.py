"""The text catalogue (issue 15, texts/README.md): texts/fr.json is the one
place of the pages' scripts' texts and of the API's messages.

- web/js/textes.js and core/include/portail/texts.h are what script/texts
  makes of it (committed: a stale one fails here);
- every key is used (a page script calls tx('KEY') or txn('KEY', n), a C
  source names TXT_KEY) and every key used is in the catalogue;
- a script gives every {name} of the text it asks for."""

import json
import re
import subprocess
from pathlib import Path

from test_typography import sources

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "texts" / "fr.json"
GENERATED = {ROOT / "web" / "js" / "textes.js", ROOT / "core" / "include" / "portail" / "texts.h"}
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
# A key as a script names it: a quoted dotted name in the first argument
# of tx or txn (tx(cond ? 'a.b' : 'a.c') names two).
KEY_LITERAL = re.compile(r"'([a-z0-9_]+(?:\.[a-z0-9_]+)+)'")
CALLEE = re.compile(r"\btxn?\(")
# The plain calls, tx('k'), tx('k', { a, b: x }), txn('k', n, {...}), whose
# values the placeholder test checks (a call with a computed key is not).
CALL = re.compile(r"\b(txn?)\(\s*'([a-z0-9_.]+)'(\s*,\s*[\w$.]+)?(?:\s*,\s*\{([^{}]*)\})?\s*\)")
MACRO = re.compile(r"\bTXT_[A-Z0-9_]+\b")


def texts():
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def macro(key):
    return "TXT_" + key[len("api.") :].replace(".", "_").upper()


def first_argument(src, i):
    """The source of the argument starting at i, to its comma or the call's end."""
    depth, j = 0, i
    while j < len(src):
        c = src[j]
        if c in "'\"`":
            k = j + 1
            while k < len(src) and src[k] != c:
                k += 2 if src[k] == "\\" else 1
            j = k + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            break
        j += 1
    return src[i:j]


def script_keys(src):
    """The keys a script names: tx's, and txn's bases."""
    return [k for m in CALLEE.finditer(src) for k in KEY_LITERAL.findall(first_argument(src, m.end()))]


def script_calls(src):
    """(function, key, names of the values given, or None) per plain call."""
    out = []
    for m in CALL.finditer(src):
        names = None
        if m.group(4) is not None:
            names = set(re.findall(r"(?:^|,)\s*([A-Za-z_$][\w$]*)\s*(?=[:,]|$)", m.group(4).strip()))
        out.append((m.group(1), m.group(2), names))
    return out


def scripts():
    return [p for p in sources() if p.suffix == ".js" and p not in GENERATED]


def c_files():
    return [p for p in sources() if p.suffix in (".c", ".h") and p not in GENERATED]


def test_generated_files_are_fresh():
    r = subprocess.run([str(ROOT / "script" / "texts"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_the_readers_find_keys_and_values():
    src = (
        "a = tx('x.un_texte'); b = txn('x.pluriel', t.count, { total });\n"
        "c = tx(ok ? 'x.oui' : 'x.non', { nom: p.name, date });\n"
        "d = pageSetting('login.max_password_failures'); e = tx('x.date', { date: f(a, b) });\n"
    )
    assert script_keys(src) == ["x.un_texte", "x.pluriel", "x.oui", "x.non", "x.date"]
    assert script_calls(src) == [
        ("tx", "x.un_texte", None), ("txn", "x.pluriel", {"total"}), ("tx", "x.date", {"date"}),
    ]


def test_every_key_is_used_and_every_used_key_exists():
    cat = texts()
    used, missing = set(), []
    for path in scripts():
        for key in script_keys(path.read_text(encoding="utf-8")):
            found = [k for k in (key, key + ".un", key + ".plusieurs") if k in cat]
            used.update(found)
            if not found:
                missing.append("%s: %s" % (path.relative_to(ROOT), key))
    by_macro = {macro(k): k for k in cat if k.startswith("api.")}
    for path in c_files():
        for name in MACRO.findall(path.read_text(encoding="utf-8")):
            if name in by_macro:
                used.add(by_macro[name])
            else:
                missing.append("%s: %s" % (path.relative_to(ROOT), name))
    assert not missing, "used but not in texts/fr.json:\n" + "\n".join(missing)
    unused = sorted(set(cat) - used)
    assert not unused, "in texts/fr.json but used nowhere:\n" + "\n".join(unused)


def test_scripts_give_every_placeholder():
    cat, bad = texts(), []
    for path in scripts():
        for fn, key, names in script_calls(path.read_text(encoding="utf-8")):
            for k in [key + ".un", key + ".plusieurs"] if fn == "txn" else [key]:
                wanted = set(PLACEHOLDER.findall(cat.get(k, ""))) - ({"n"} if fn == "txn" else set())
                if names is None and wanted or names is not None and not wanted <= names:
                    bad.append("%s: %s wants %s, given %s" % (path.relative_to(ROOT), k, sorted(wanted), names))
    assert not bad, "\n".join(bad)


def test_api_messages_take_printf_conversions_and_pages_names():
    """A C format cannot take {name} (but {appel}, which core/account.c
    says itself); a page's text has no use for %s."""
    cat = texts()
    bad = [k for k, v in cat.items() if k.startswith("api.") and set(PLACEHOLDER.findall(v)) - {"appel", "Appel"}]
    bad += [k for k, v in cat.items() if not k.startswith("api.") and re.search(r"%[-0-9.]*[sdiu]", v)]
    assert not bad, bad
