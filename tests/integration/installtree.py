"""Helpers of the install tests: `make install DESTDIR=...` from the build
tree, and the build's installation directories as make expands them."""
import subprocess

from conftest import BUILD

DIRS = ("prefix", "bindir", "sysconfdir", "localstatedir", "pkglibdir", "pkgdatadir",
        "docdir", "systemdsystemunitdir", "sysusersdir", "logrotatedir", "nginxsitedir",
        "portailconfdir", "webdir", "confdir")


def build_dirs():
    """{name: expanded value} of the build's Makefile."""
    rules = "print-portail-dirs:\n" + "".join(
        "\t@echo '%s=$(%s)'\n" % (d, d) for d in DIRS)
    r = subprocess.run(["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-",
                        "print-portail-dirs"], cwd=str(BUILD), input=rules, text=True,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    assert set(out) == set(DIRS), out
    return out


def make_install(destdir, timeout=600):
    r = subprocess.run(["make", "-s", "install", "DESTDIR=%s" % destdir], cwd=str(BUILD),
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def under(destdir, path):
    """An installed path (absolute, as configured) inside DESTDIR."""
    return destdir / str(path).lstrip("/")
