"""docs/asvs.md, the OWASP ASVS 4.0.3 level 2 map, stays true: every
requirement of the nine chapters is there once, with a status, and every
test it cites exists (a pytest function, a Check START_TEST of tests/unit/,
or a node:test title of tests/web/). Renaming or deleting a cited test
fails here until the map follows. Needs no running stack."""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAP = REPO / "docs" / "asvs.md"

CHAPTERS = {
    "V2": "Authentication", "V3": "Session management", "V4": "Access control",
    "V5": "Validation, sanitization and encoding", "V7": "Error handling and logging",
    "V8": "Data protection", "V12": "Files and resources", "V13": "API and web service",
    "V14": "Configuration",
}

# The level 2 requirements (L1 and L2) of those chapters in ASVS 4.0.3
# (4.0/docs_en/OWASP Application Security Verification Standard
# 4.0.3-en.flat.json, level2 marked).
EXPECTED = """
2.1.1 2.1.2 2.1.3 2.1.4 2.1.5 2.1.6 2.1.7 2.1.8 2.1.9 2.1.10 2.1.11 2.1.12
2.2.1 2.2.2 2.2.3 2.3.1 2.3.2 2.3.3 2.4.1 2.4.2 2.4.3 2.4.4 2.4.5
2.5.1 2.5.2 2.5.3 2.5.4 2.5.5 2.5.6 2.5.7 2.6.1 2.6.2 2.6.3
2.7.1 2.7.2 2.7.3 2.7.4 2.7.5 2.7.6 2.8.1 2.8.2 2.8.3 2.8.4 2.8.5 2.8.6 2.8.7
2.9.1 2.9.2 2.9.3 2.10.1 2.10.2 2.10.3 2.10.4
3.1.1 3.2.1 3.2.2 3.2.3 3.2.4 3.3.1 3.3.2 3.3.3 3.3.4
3.4.1 3.4.2 3.4.3 3.4.4 3.4.5 3.5.1 3.5.2 3.5.3 3.7.1
4.1.1 4.1.2 4.1.3 4.1.5 4.2.1 4.2.2 4.3.1 4.3.2 4.3.3
5.1.1 5.1.2 5.1.3 5.1.4 5.1.5 5.2.1 5.2.2 5.2.3 5.2.4 5.2.5 5.2.6 5.2.7 5.2.8
5.3.1 5.3.2 5.3.3 5.3.4 5.3.5 5.3.6 5.3.7 5.3.8 5.3.9 5.3.10
5.4.1 5.4.2 5.4.3 5.5.1 5.5.2 5.5.3 5.5.4
7.1.1 7.1.2 7.1.3 7.1.4 7.2.1 7.2.2 7.3.1 7.3.3 7.3.4 7.4.1 7.4.2 7.4.3
8.1.1 8.1.2 8.1.3 8.1.4 8.2.1 8.2.2 8.2.3
8.3.1 8.3.2 8.3.3 8.3.4 8.3.5 8.3.6 8.3.7 8.3.8
12.1.1 12.1.2 12.1.3 12.2.1 12.3.1 12.3.2 12.3.3 12.3.4 12.3.5 12.3.6
12.4.1 12.4.2 12.5.1 12.5.2 12.6.1
13.1.1 13.1.3 13.1.4 13.1.5 13.2.1 13.2.2 13.2.3 13.2.5 13.2.6
13.3.1 13.3.2 13.4.1 13.4.2
14.1.1 14.1.2 14.1.3 14.1.4 14.2.1 14.2.2 14.2.3 14.2.4 14.2.5 14.2.6
14.3.2 14.3.3 14.4.1 14.4.2 14.4.3 14.4.4 14.4.5 14.4.6 14.4.7
14.5.1 14.5.2 14.5.3 14.5.4
""".split()

STATUSES = {"met", "partly", "not met", "not applicable"}
HEADING = re.compile(r"^## (V\d+) (.+)$")
ROW = re.compile(r"^\| (\d+\.\d+\.\d+) \| (L1|L2) \| (.+?) \| (met|partly|not met|not applicable)"
                 r" \| (.+) \|$")
CITATION = re.compile(r"`([A-Za-z0-9_./-]+\.(?:py|c|js))::([^`]+)`")


def parse(text):
    """[(chapter, id, status, proof)] and the list of problems found in the
    table's shape."""
    rows, problems, chapter = [], [], None
    for n, line in enumerate(text.splitlines(), 1):
        h = HEADING.match(line)
        if h:
            chapter = h.group(1) if h.group(1) in CHAPTERS else None
            continue
        if chapter is None or not line.startswith("| ") or line.startswith("| id ") \
                or line.startswith("| ---"):
            continue
        m = ROW.match(line)
        if not m:
            problems.append("line %d: not a row of the map: %s" % (n, line[:80]))
            continue
        rows.append((chapter, m.group(1), m.group(4), m.group(5)))
    return rows, problems


def _js_titles(source):
    titles = set()
    for m in re.finditer(r"\btest\(\s*(['\"`])((?:\\.|(?!\1)[^\\])*)\1", source):
        titles.add(re.sub(r"\\(.)", r"\1", m.group(2)))
    return titles


def _py_tests(source):
    return {n.name for n in ast.walk(ast.parse(source))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _c_tests(source):
    return set(re.findall(r"^START_TEST\((\w+)\)", source, re.M))


def missing_citations(text, root=REPO):
    """Citations of text whose file or test does not exist under root."""
    names, missing = {}, []
    for path, name in CITATION.findall(text):
        f = root / path
        if path not in names:
            if not f.is_file():
                names[path] = None
            else:
                src = f.read_text(encoding="utf-8")
                names[path] = (_py_tests(src) if path.endswith(".py")
                               else _c_tests(src) if path.endswith(".c") else _js_titles(src))
        if names[path] is None:
            missing.append("%s (no such file)" % path)
        elif name not in names[path]:
            missing.append("%s::%s" % (path, name))
    return missing


@pytest.fixture(scope="module")
def text():
    return MAP.read_text(encoding="utf-8")


def test_every_chapter_is_there(text):
    found = {m.group(1): m.group(2) for m in map(HEADING.match, text.splitlines()) if m}
    for ch, title in CHAPTERS.items():
        assert found.get(ch) == title, (ch, found.get(ch))


def test_every_level_2_requirement_once_in_its_chapter(text):
    rows, problems = parse(text)
    assert not problems, problems
    ids = [r[1] for r in rows]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, dupes
    assert sorted(ids) == sorted(EXPECTED), (sorted(set(EXPECTED) - set(ids)),
                                             sorted(set(ids) - set(EXPECTED)))
    for chapter, rid, _, _ in rows:
        assert chapter == "V" + rid.split(".")[0], (chapter, rid)


def test_statuses_say_why(text):
    rows, _ = parse(text)
    for _, rid, status, proof in rows:
        assert status in STATUSES
        cited = CITATION.findall(proof)
        if status == "met":
            assert cited, "%s is met but cites no test" % rid
        else:
            # What is missing or why it does not apply, in words.
            prose = CITATION.sub("", proof)
            assert len(re.sub(r"[\W_]+", "", prose)) >= 8, (rid, proof)


def test_every_cited_test_exists(text):
    assert len(CITATION.findall(text)) > 150
    missing = missing_citations(text)
    assert not missing, missing


def test_the_summary_counts_the_rows(text):
    rows, _ = parse(text)
    m = re.search(r"^\| all \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M)
    assert m, "no summary line"
    counts = [sum(1 for r in rows if r[2] == s) for s in ("met", "partly", "not met",
                                                           "not applicable")]
    assert [int(x) for x in m.groups()] == [len(rows)] + counts


def test_a_renamed_test_is_caught(tmp_path):
    """The checker itself: a citation to a test that was renamed (here,
    in a copy of the files) is reported, for each kind of test file."""
    (tmp_path / "t.py").write_text("def test_new_name():\n    pass\n")
    (tmp_path / "t.c").write_text("START_TEST(new_name)\n{\n}\nEND_TEST\n")
    (tmp_path / "t.test.js").write_text("test('new title (${size})', async () => {});\n"
                                        "test(\"it\\'s here\", () => {});\n")
    ok = "`t.py::test_new_name` `t.c::new_name` `t.test.js::new title (${size})` " \
         "`t.test.js::it's here`"
    assert missing_citations(ok, tmp_path) == []
    stale = "`t.py::test_old_name` `t.c::old_name` `t.test.js::old title` `gone.py::test_x`"
    assert missing_citations(stale, tmp_path) == [
        "t.py::test_old_name", "t.c::old_name", "t.test.js::old title", "gone.py (no such file)"]
