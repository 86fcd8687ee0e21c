"""Per-module migrations: `portailctl migrate` applies the core's files then
each enabled module's in config order, records (module, file, checksum),
refuses a file edited after it ran, never interleaves with another migrate
of the same database, and upgrades a database made by the old global sql/
numbering without loss. portaild refuses to serve a database behind its
files."""

import hashlib
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BUILD, REPO, _env

HERE = Path(__file__).resolve().parent
MAIN_SCHEMA = HERE / "fixtures" / "main_schema"


def hello_with_sql(tmp_path, files):
    """The hello test module, with a data folder of our own holding sql/FILES."""
    d = tmp_path / "hello-data"
    (d / "sql").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / "sql" / name).write_text(text)
    return {"name": "hello", "enabled": True, "path": "hello.so", "dir": str(d)}


def config(stack, db, *extra_modules, real=True):
    """A config on database db: the stack's modules (login, unlock...) unless
    real is False, then extra_modules."""
    base = stack.base_config("probe", stack.origin)["modules"] if real else []
    return stack.write_config({"database": {"name": db},
                               "modules": [m for m in base if m["name"] != "hello"]
                               + list(extra_modules)})


def migrate(stack, cfg, *args, check=True):
    r = stack.portailctl("migrate", *args, config=cfg)
    if check:
        assert r.returncode == 0, (r.stdout, r.stderr)
    return r


def recorded(stack, db):
    return stack.sql("SELECT module, file, checksum FROM portail_migrations "
                     "ORDER BY applied_at, module, file", database=db)


def core_files():
    return sorted(p.name for p in (REPO / "sql").glob("*.sql"))


def login_files():
    return sorted(p.name for p in (REPO / "modules" / "login" / "sql").glob("*.sql"))


def other_module_lines():
    """"name: applied file" of the real modules other than login that have SQL."""
    return sorted("%s: applied %s" % (p.parent.parent.name, p.name)
                  for p in (REPO / "modules").glob("*/sql/*.sql")
                  if p.parent.parent.name != "login")


def test_core_then_modules_in_config_order_and_recorded(stack, tmp_path):
    db = stack.fresh_database("portail_mig_order", migrate=False)
    hello = hello_with_sql(tmp_path, {"001_hello.sql": "CREATE TABLE hello_things (id INT PRIMARY KEY);",
                                      "002_more.sql": "ALTER TABLE hello_things ADD note TEXT;"})
    cfg = config(stack, db, hello)
    out = migrate(stack, cfg).stdout.splitlines()
    applied = [line for line in out if ": applied " in line]
    # The core first, then the modules in config order, each in file order.
    owners = [line.split(":")[0] for line in applied]
    assert owners[:len(core_files())] == ["core"] * len(core_files()), out
    assert applied[:len(core_files())] == ["core: applied %s" % f for f in core_files()], out
    assert "login: applied 003_login.sql" in out, out
    assert applied[-2:] == ["hello: applied 001_hello.sql", "hello: applied 002_more.sql"], out
    assert owners.index("login") < owners.index("hello"), out
    assert "unlock: applied 001_insured_search.sql" in out, out

    rows = recorded(stack, db)
    assert ["hello", "002_more.sql"] in [r[:2] for r in rows]
    assert all(len(r[2]) == 64 for r in rows), rows
    want = hashlib.sha256((REPO / "modules/login/sql/003_login.sql").read_bytes()).hexdigest()
    assert ["login", "003_login.sql", want] in rows
    assert stack.sql("SHOW COLUMNS FROM hello_things LIKE 'note'", database=db)

    # Again: nothing to do, one line per owner.
    out = migrate(stack, cfg).stdout.splitlines()
    assert [line for line in out if "applied" in line] == [], out
    assert "core: up to date" in out and "hello: up to date" in out, out

    # A new file of the module: only it runs.
    (Path(hello["dir"]) / "sql" / "003_idx.sql").write_text(
        "CREATE INDEX hello_note ON hello_things (note(10));")
    out = migrate(stack, cfg).stdout.splitlines()
    assert [line for line in out if "applied" in line] == ["hello: applied 003_idx.sql"], out


def test_disabled_module_is_not_migrated(stack, tmp_path):
    db = stack.fresh_database("portail_mig_disabled", migrate=False)
    hello = dict(hello_with_sql(tmp_path, {"001_hello.sql": "CREATE TABLE hello_x (id INT);"}),
                 enabled=False)
    out = migrate(stack, config(stack, db, hello)).stdout.splitlines()
    assert "hello: disabled, not migrated" in out, out
    assert not stack.sql("SHOW TABLES LIKE 'hello_x'", database=db)


def test_edited_file_is_refused_with_one_line(stack, tmp_path):
    db = stack.fresh_database("portail_mig_sum", migrate=False)
    hello = hello_with_sql(tmp_path, {"001_hello.sql": "CREATE TABLE hello_sum (id INT);"})
    cfg = config(stack, db, hello)
    migrate(stack, cfg)
    before = recorded(stack, db)
    sql = Path(hello["dir"]) / "sql"
    (sql / "001_hello.sql").write_text("CREATE TABLE hello_sum (id BIGINT);")
    # A new file after it is not applied either: the run stops first.
    (sql / "002_next.sql").write_text("CREATE TABLE hello_next (id INT);")
    r = migrate(stack, cfg, check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("portailctl: migrate: hello: 001_hello.sql changed after it "
                               "was applied"), lines
    assert recorded(stack, db) == before
    assert not stack.sql("SHOW TABLES LIKE 'hello_next'", database=db)


def test_waits_for_the_lock_of_another_migrate(stack, tmp_path):
    db = stack.fresh_database("portail_mig_lock", migrate=False)
    cfg = config(stack, db)
    # Another session holds the migrate lock of this database for 4 s.
    holder = subprocess.Popen(
        ["mariadb", "--no-defaults", "-S", str(stack.mariadb.socket), "-uroot", db, "-e",
         "SELECT GET_LOCK('portail_migrate:%s', 0); SELECT SLEEP(4);" % db],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 5
        while not stack.sql("SELECT IS_USED_LOCK('portail_migrate:%s')" % db, database=db)[0][0]:
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.05)
        r = migrate(stack, cfg, "--wait", "1", check=False)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert r.stderr.strip().splitlines() == [
            "portailctl: migrate: another migrate of this database is running "
            "(lock not free after 1 s)"], r.stderr
        assert not stack.sql("SHOW TABLES LIKE 'portail_migrations'", database=db)
        # Waiting long enough, it runs once the holder lets go.
        t = time.monotonic()
        r = migrate(stack, cfg, "--wait", "30")
        assert "waiting for another migrate" in r.stdout
        assert time.monotonic() - t >= 1.0
    finally:
        holder.wait(10)
    assert "core: applied 001_core.sql" in r.stdout


@pytest.mark.timeout(180)
def test_two_migrates_at_once_apply_each_file_once(stack, tmp_path):
    db = stack.fresh_database("portail_mig_race", migrate=False)
    # A slow file makes the runs overlap for sure.
    hello = hello_with_sql(tmp_path, {"001_slow.sql": "DO SLEEP(1); CREATE TABLE hello_slow (id INT);"})
    cfg = config(stack, db, hello)
    results = [None, None]

    def run(i):
        results[i] = subprocess.run(
            [str(BUILD / "portailctl"), "--config", str(cfg), "migrate"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), timeout=120)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert r.returncode == 0, (r.stdout, r.stderr)
    applied = [line for r in results for line in r.stdout.splitlines() if ": applied " in line]
    files = core_files() + login_files() + ["001_slow.sql"] + [
        line.split(" applied ")[1] for line in other_module_lines()]
    assert sorted(line.split(" applied ")[1] for line in applied) == sorted(files), applied
    assert len(recorded(stack, db)) == len(files)


def test_database_of_old_main_upgrades_without_loss(stack, tmp_path):
    """A database made by main before per-module migrations: the three files
    of the global sql/ applied and recorded by bare name in
    schema_migrations(version), with data in it."""
    db = stack.fresh_database("portail_mig_legacy", migrate=False)
    for f in sorted(MAIN_SCHEMA.glob("*.sql")):
        stack.sql(f.read_text(), database=db)
    stack.sql("CREATE TABLE schema_migrations (version VARCHAR(255) NOT NULL PRIMARY KEY, "
              "applied_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP())) ENGINE=InnoDB; "
              "INSERT INTO schema_migrations (version) VALUES "
              "('001_core.sql'), ('002_services.sql'), ('003_login.sql')", database=db)
    stack.sql("INSERT INTO insured (nir, sex, last_name, first_name, birth_date, email) "
              "VALUES ('180057500000142', 1, 'Ancien', 'Paul', '1980-05-17', 'ancien@example.fr'); "
              "INSERT INTO members (insured_id, email) VALUES (LAST_INSERT_ID(), 'ancien@example.fr'); "
              "INSERT INTO member_recovery_codes (member_id, code_hash) "
              "SELECT id, UNHEX(REPEAT('ab', 32)) FROM members WHERE email = 'ancien@example.fr'",
              database=db)
    counts = "SELECT (SELECT COUNT(*) FROM insured), (SELECT COUNT(*) FROM members), " \
             "(SELECT COUNT(*) FROM member_recovery_codes)"
    before = stack.sql(counts, database=db)

    cfg = config(stack, db)
    # Behind: portaild refuses it until migrate has run.
    rc, err = stack.run_portaild_expect_fail({"database": {"name": db}})
    assert rc == 1 and "not applied" in err, err

    out = migrate(stack, cfg).stdout.splitlines()
    assert "core: adopted 001_core.sql (applied before, recorded in schema_migrations)" in out, out
    assert "core: adopted 002_services.sql (applied before, recorded in schema_migrations)" in out
    assert "login: adopted 003_login.sql (applied before, recorded in schema_migrations)" in out
    # Files added since (other core files) are applied; the old ones are not re-run.
    new_core = [f for f in core_files() if f not in ("001_core.sql", "002_services.sql")]
    new_login = [f for f in login_files() if f != "003_login.sql"]
    others = other_module_lines()
    assert [line for line in out if ": applied " in line and line not in others] == [
        "core: applied %s" % f for f in new_core] + ["login: applied %s" % f
                                                     for f in new_login], out
    assert sorted(line for line in out if line in others) == others, out
    assert stack.sql(counts, database=db) == before
    assert stack.sql("SELECT email FROM members", database=db) == [["ancien@example.fr"]]
    rec = [r[:2] for r in recorded(stack, db)]
    for old in (["core", "001_core.sql"], ["core", "002_services.sql"], ["login", "003_login.sql"]):
        assert old in rec, rec

    # Up to date now, and served.
    out = migrate(stack, cfg).stdout.splitlines()
    assert not [line for line in out if "applied" in line or "adopted" in line], out
    inst = stack.start_portaild({"database": {"name": db}})
    assert stack.client(base_url=inst.base_url, origin=inst.origin).get(
        "/api/v1/health").status_code == 200


# ---------------------------------------------------------- portaild refuses


def refused(stack, overrides):
    rc, err = stack.run_portaild_expect_fail(overrides)
    lines = err.strip().splitlines()
    assert rc == 1, (rc, err)
    assert len(lines) == 1, err
    assert not (stack.last_config_path.parent / "run" / "portaild.sock").exists()
    return lines[0]


def test_portaild_refuses_a_module_file_not_applied(stack, tmp_path):
    db = stack.fresh_database("portail_mig_behind", migrate=False)
    hello = hello_with_sql(tmp_path, {"001_hello.sql": "CREATE TABLE hello_b (id INT);"})
    migrate(stack, config(stack, db))  # the core and login, not hello's data folder
    mods = [m for m in stack.base_config("x", stack.origin)["modules"] if m["name"] != "hello"]
    line = refused(stack, {"database": {"name": db}, "modules": mods + [hello]})
    assert line == ("portaild: database %s is behind: hello: migration 001_hello.sql not "
                    "applied; run portailctl migrate" % db), line
    # Disabled, the module's files do not matter.
    inst = stack.start_portaild({"database": {"name": db},
                                 "modules": mods + [dict(hello, enabled=False)]})
    assert inst.poll() is None


def test_portaild_refuses_an_edited_file(stack, tmp_path):
    db = stack.fresh_database("portail_mig_edited", migrate=False)
    hello = hello_with_sql(tmp_path, {"001_hello.sql": "CREATE TABLE hello_e (id INT);"})
    migrate(stack, config(stack, db, hello))
    (Path(hello["dir"]) / "sql" / "001_hello.sql").write_text("CREATE TABLE hello_e (id BIGINT);")
    mods = [m for m in stack.base_config("x", stack.origin)["modules"] if m["name"] != "hello"]
    line = refused(stack, {"database": {"name": db}, "modules": mods + [hello]})
    assert "hello: 001_hello.sql changed after it was applied" in line, line


def test_portaild_refuses_a_core_file_not_applied(stack, tmp_path):
    db = stack.fresh_database("portail_mig_core", migrate=False)
    migrate(stack, config(stack, db))
    core = tmp_path / "data"
    shutil.copytree(REPO / "sql", core / "sql")
    (core / "sql" / "999_future.sql").write_text("CREATE TABLE future (id INT);")
    line = refused(stack, {"database": {"name": db}, "server": {"data_dir": str(core)},
                           "modules": [m for m in stack.base_config("x", stack.origin)["modules"]
                                       if m["name"] not in ("login", "unlock")]})
    assert line.endswith("core: migration 999_future.sql not applied; run portailctl migrate"), line
    # And --sql DIR of portailctl applies it.
    r = migrate(stack, config(stack, db), "--sql", str(core / "sql"))
    assert "core: applied 999_future.sql" in r.stdout
