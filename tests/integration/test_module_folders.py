"""A module is its folder: every modules/NAME/ carries what the tree needs of
it (build fragment, config block, README, tests), the example configuration
is assembled from the folders (script/conf-assemble, as script/server does),
and the harness discovers the modules instead of listing them."""

import os
import re
import shutil
import subprocess

from conftest import BUILD, REPO, real_module, real_modules


def test_every_module_folder_is_complete():
    names = real_modules()
    assert {"login", "unlock"} <= set(names), names
    for name in names:
        d = REPO / "modules" / name
        for f in ("module.am", "conf.example", "README.md"):
            assert (d / f).is_file(), "%s has no %s" % (d, f)
        assert "%reldir%" in (d / "module.am").read_text()
        assert re.search(r'name = "%s";' % name, (d / "conf.example").read_text())


def test_modules_am_includes_every_fragment():
    subprocess.run([str(REPO / "script" / "modules-am")], check=True)
    text = (REPO / "modules.am").read_text()
    for frag in sorted(REPO.glob("modules/*/module.am")) + sorted(REPO.glob("tests/modules/*/module.am")):
        assert "include $(srcdir)/%s\n" % frag.relative_to(REPO) in text


def test_stack_runs_every_discovered_module(stack):
    names = [m["name"] for m in stack.config["modules"]]
    assert names[:3] == ["testmod", "hello", "jobmod"]
    assert names[3:] == real_modules()
    health = stack.client().get("/api/v1/health").json()
    assert {m["name"] for m in health["modules"]} >= set(real_modules())


def test_assembled_example_config_checks(stack, tmp_path):
    """The core's example plus every module's conf.example block, with the
    paths script/server rewrites, passes portaild --check-config."""
    text = subprocess.run([str(REPO / "script" / "conf-assemble")], check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    found = re.findall(r'^\s*\{ name = "(\w+)";', text, re.M)
    assert found == real_modules(), found
    libs = tmp_path / "modules"
    libs.mkdir()
    for name in found:
        (libs / ("%s.so" % name)).symlink_to(real_module(name))

    def setting(key, value):
        nonlocal text
        text, n = re.subn(r'^(\s*%s\s*=\s*)"[^"]*"' % key, r'\g<1>"%s"' % value, text, flags=re.M)
        assert n >= 1, key

    setting("module_dir", libs)
    setting("data_dir", REPO)
    setting("socket", stack.mariadb.socket)
    setting("password_dictionary", BUILD / "cracklib" / "portail")
    rc, out, err = stack.check_config(text)
    assert (rc, out.strip()) == (0, "ok"), err


def web_build(webroot, *folders):
    env = dict(os.environ, PORTAIL_WEBROOT=str(webroot))
    return subprocess.run([str(REPO / "script" / "web-build"), *map(str, folders)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)


def test_module_pages_are_served_from_its_folder(stack, tmp_path):
    """A module's pages (MODULE/web/) are copied by script/web-build to
    WEBROOT/NAME/ and served as /NAME/, SSI partials included."""
    webroot = tmp_path / "web"
    shutil.copytree(REPO / "web", webroot, symlinks=True,
                    ignore=shutil.ignore_patterns("dsfr", "screenshots"))
    hello = REPO / "tests" / "modules" / "hello"
    r = web_build(webroot, hello)
    assert r.returncode == 0, r.stderr
    assert (webroot / "hello" / "index.html").read_text() == (hello / "web" / "index.html").read_text()
    # Not committed by mistake.
    assert (webroot / "hello" / ".gitignore").read_text().splitlines()[-1] == "*"

    inst = stack.start_portaild(webroot=webroot)
    page = stack.client(base_url=inst.base_url, origin=inst.origin).get("/hello/")
    assert page.status_code == 200, page.text
    assert "<h1>Bonjour</h1>" in page.text
    assert "Page du module d’essai hello" in page.text
    # The site's footer, included by nginx.
    assert 'id="pied-de-page"' in page.text and "<!--#" not in page.text

    # Built again from an edited folder: the copy follows.
    src = tmp_path / "hello"
    shutil.copytree(hello / "web", src / "web")
    (src / "web" / "index.html").write_text("<p>nouvelle version</p>\n")
    assert web_build(webroot, src).returncode == 0
    assert stack.client(base_url=inst.base_url, origin=inst.origin).get(
        "/hello/").text == "<p>nouvelle version</p>\n"


def test_module_pages_never_overwrite_the_site(stack, tmp_path):
    webroot = tmp_path / "web"
    (webroot / "compte").mkdir(parents=True)
    (webroot / "compte" / "appareils.html").write_text("du site")
    mod = tmp_path / "compte"
    (mod / "web").mkdir(parents=True)
    (mod / "web" / "index.html").write_text("du module")
    r = web_build(webroot, mod)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("web-build: %s exists and is not module "
                                                        "compte's pages" % (webroot / "compte"))
    assert (webroot / "compte" / "appareils.html").read_text() == "du site"
    assert not (webroot / "compte" / "index.html").exists()
