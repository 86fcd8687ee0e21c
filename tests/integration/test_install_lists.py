"""make install puts what the build files list: every core migration, mail
template and module migration must be listed there, or an installed portail
lacks it (sql/006, sql/007 and mail/notification.txt were missing)."""
import re

from conftest import REPO


def listed(text, var):
    """The files of every `var = ...` and `var += ...` (continued lines too)."""
    text = text.replace("\\\n", " ")
    out = set()
    for m in re.finditer(r"^%s\s*\+?=\s*(.*)$" % re.escape(var), text, re.M):
        out.update(m.group(1).split())
    return out


def test_core_migrations_and_mail_templates_are_installed():
    am = (REPO / "Makefile.am").read_text()
    sql = {"sql/" + p.name for p in (REPO / "sql").glob("*.sql")}
    assert sql - listed(am, "dist_sql_DATA") == set()
    mail = {"mail/" + p.name for p in (REPO / "mail").glob("*.txt")}
    assert mail - listed(am, "dist_mail_DATA") == set()


def test_each_modules_migrations_are_installed():
    for folder in sorted((REPO / "modules").iterdir()):
        frag = folder / "module.am"
        if not frag.is_file() or not (folder / "sql").is_dir():
            continue
        names = listed(frag.read_text(), "dist_%canon_reldir%_sql_DATA")
        files = {"%reldir%/sql/" + p.name for p in (folder / "sql").glob("*.sql")}
        assert files - names == set(), folder.name
