"""portaild serves with glibc's per-thread cache of freed blocks raised
(GLIBC_TUNABLES, set by portaild itself with one exec at start: the count is
only read from the environment), unless its environment already names
tunables, which are then left as they are (docs/performance.md)."""
from pathlib import Path


def environ_of(pid):
    raw = Path("/proc/%d/environ" % pid).read_bytes()
    return dict(e.split("=", 1) for e in raw.decode("utf-8", "replace").split("\0") if "=" in e)


def test_portaild_serves_with_a_larger_tcache(stack):
    env = environ_of(stack.portaild.pid)
    assert env.get("GLIBC_TUNABLES") == "glibc.malloc.tcache_count=64"
    # The same process (exec keeps the pid) answers.
    assert stack.client().get("/api/v1/health").status_code == 200


def test_tunables_of_the_environment_are_kept(stack, monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.check=0")
    inst = stack.start_portaild()
    assert environ_of(inst.pid).get("GLIBC_TUNABLES") == "glibc.malloc.check=0"
