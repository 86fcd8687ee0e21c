"""portaild's life: graceful stop on SIGTERM (drain, grace period, refusing
new connections), log reopening on SIGHUP, the access log line, and a burst
of concurrent requests."""

import json
import re
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import requests

import fcgi_client as fcgi
from hostcheck import parse_raw, raw_http


def in_thread(fn):
    """Runs fn in a thread; returns (thread, box) where box["result"] or
    box["error"] is set when it ends."""
    box = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


def log_line(inst, rid, timeout=5):
    """The access-log record of request rid: (line, parsed). The line must
    be strict UTF-8 and one JSON object."""
    deadline = time.monotonic() + timeout
    key = rid.encode()
    while True:
        data = inst.log_path.read_bytes()
        # Only complete lines: the last one may still be being written.
        for raw in data[:data.rfind(b"\n") + 1].split(b"\n"):
            if key in raw:
                line = raw.decode("utf-8")  # strict
                rec = json.loads(line)
                if "status" in rec:
                    return line, rec
        assert time.monotonic() < deadline, "no log line for " + rid
        time.sleep(0.05)


def connect_refused(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(1)
        s.connect(str(sock_path))
        return False
    except OSError:
        return True
    finally:
        s.close()


# ---------------------------------------------------------------- SIGTERM


@pytest.mark.timeout(60)
def test_sigterm_drains_in_flight_request(stack):
    inst = stack.start_portaild({"server": {"grace_seconds": 10}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    t, box = in_thread(lambda: c.get("/api/v1/test/slow?ms=1500", timeout=30))
    time.sleep(0.6)  # the request is asleep in a worker by now
    t0 = time.monotonic()
    inst.send_signal(signal.SIGTERM)
    # New connections are refused at once (the socket is gone) and nginx
    # answers them with its own problem+json 503.
    wait_for(lambda: connect_refused(inst.socket) and not inst.socket.exists(), 2,
             "listener closed and unlinked")
    r = requests.get(inst.base_url + "/api/v1/test/hello", timeout=10)
    assert r.status_code == 503, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.headers.get("Retry-After")
    # The in-flight request completes.
    t.join(30)
    assert "error" not in box, box
    assert box["result"].status_code == 200, box["result"].text
    assert box["result"].json() == {"slept": 1500}
    rc = inst.wait(15)
    elapsed = time.monotonic() - t0
    assert rc == 0, inst.stderr()
    msgs = [r.get("msg", "") for r in inst.log_records()]
    assert elapsed < 10, (elapsed, msgs[-20:])  # well within the grace period
    assert any(m.startswith("stopping") for m in msgs) and "stopped" in msgs
    assert stack.stop_portaild(inst) == 0


@pytest.mark.timeout(60)
def test_sigterm_with_a_silent_connection_exits_quickly(stack):
    """A connection accepted just before SIGTERM whose peer has sent nothing
    yet (the test's own probe, a FastCGI client slow to write): libfcgi
    waits up to 2 s for it to be readable, and the stop's wake-up signal
    cuts that wait. With libfcgi's shutdown flag set, its accept loop then
    spun on the closed descriptor (poll, close, again) until the grace
    period ran out: one run in about thirty of the drain test above."""
    inst = stack.start_portaild({"server": {"grace_seconds": 6, "threads": 2}})
    held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        held.connect(str(inst.socket))
        time.sleep(0.3)  # a worker has accepted it and waits for its first bytes
        t0 = time.monotonic()
        inst.send_signal(signal.SIGTERM)
        rc = inst.wait(15)
        elapsed = time.monotonic() - t0
    finally:
        held.close()
    msgs = [r.get("msg", "") for r in inst.log_records()]
    assert rc == 0, inst.stderr()
    assert elapsed < 3, (elapsed, msgs[-10:])
    assert "stopped" in msgs and not any("grace period over" in m for m in msgs), msgs
    assert stack.stop_portaild(inst) == 0


@pytest.mark.timeout(60)
def test_sigterm_idle_exits_quickly(stack):
    inst = stack.start_portaild({"server": {"threads": 4}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    assert c.get("/api/v1/test/hello").status_code == 200
    t0 = time.monotonic()
    inst.send_signal(signal.SIGTERM)
    assert inst.wait(10) == 0, inst.stderr()
    assert time.monotonic() - t0 < 3
    assert stack.stop_portaild(inst) == 0


@pytest.mark.timeout(60)
def test_sigterm_grace_period_over(stack):
    inst = stack.start_portaild({"server": {"grace_seconds": 1}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    t, box = in_thread(lambda: c.get("/api/v1/test/slow?ms=8000", timeout=30))
    time.sleep(0.5)
    t0 = time.monotonic()
    inst.send_signal(signal.SIGTERM)
    inst.wait(10)
    elapsed = time.monotonic() - t0
    assert elapsed < 1 + 1.5, elapsed
    assert elapsed >= 0.9, elapsed
    msgs = [r.get("msg", "") for r in inst.log_records()]
    assert any("grace period over" in m for m in msgs), msgs
    # The cut request ends with nginx's 503, not a hang.
    t.join(20)
    assert "error" not in box, box
    assert box["result"].status_code == 503
    stack.stop_portaild(inst)


# ---------------------------------------------------------------- SIGHUP


@pytest.mark.timeout(60)
def test_sighup_reopens_log(stack):
    inst = stack.start_portaild()
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    rid1 = c.get("/api/v1/test/hello").headers["X-Request-Id"]
    log_line(inst, rid1)
    rotated = inst.log_path.with_name(inst.log_path.name + ".1")
    inst.log_path.rename(rotated)
    inst.send_signal(signal.SIGHUP)
    wait_for(inst.log_path.exists, 5, "the new log file")
    rid2 = c.get("/api/v1/test/hello").headers["X-Request-Id"]
    _, rec = log_line(inst, rid2)
    assert rec["status"] == 200
    assert rid2 not in rotated.read_text()
    assert rid1 in rotated.read_text() and rid1 not in inst.log_path.read_text()
    assert "log reopened" in inst.log_path.read_text()
    # Still serving, still stops cleanly.
    assert inst.poll() is None
    assert stack.stop_portaild(inst) == 0


def _log_fds(pid, path):
    """The descriptor numbers of process pid open on path."""
    import os
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                out.append(int(fd))
        except OSError:
            pass
    return sorted(out)


@pytest.mark.timeout(60)
def test_sighup_reopens_log_on_the_same_descriptor(stack):
    """A thread that loaded the log descriptor just before SIGHUP may still
    write to it: the reopen must swap the file under the same descriptor
    number (dup2), never close a number a writer may hold."""
    inst = stack.start_portaild()
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    rid1 = c.get("/api/v1/test/hello").headers["X-Request-Id"]
    log_line(inst, rid1)
    before = _log_fds(inst.pid, inst.log_path)
    assert len(before) == 1
    rotated = inst.log_path.with_name(inst.log_path.name + ".1")
    inst.log_path.rename(rotated)
    inst.send_signal(signal.SIGHUP)
    wait_for(inst.log_path.exists, 5, "the new log file")
    wait_for(lambda: "log reopened" in inst.log_path.read_text(), 5, "reopen")
    assert _log_fds(inst.pid, inst.log_path) == before
    assert _log_fds(inst.pid, rotated) == []
    assert stack.stop_portaild(inst) == 0


def test_buffered_access_log_is_written_within_a_second_and_at_stop(stack):
    inst = stack.start_portaild({"server": {"log_buffer": True}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    rid = c.get("/api/v1/test/hello").headers["X-Request-Id"]
    started = time.monotonic()
    log_line(inst, rid, timeout=3)
    # The main thread flushes every second: never much later than that.
    assert time.monotonic() - started < 2.5
    # Lines still in a buffer when SIGTERM comes are written before exit.
    rids = [c.get("/api/v1/test/hello").headers["X-Request-Id"] for _ in range(5)]
    assert stack.stop_portaild(inst) == 0
    text = inst.log_path.read_text()
    assert all(r in text for r in rids)


# ------------------------------------------------------------- access log


ACCESS_KEYS = {"time", "level", "request_id", "method", "path", "status", "duration_ms",
               "module", "principal"}


def test_access_log_line(stack, client):
    before = datetime.now(timezone.utc)
    r = client.get("/api/v1/test/hello?token=SECRET123&x=%C3%A9")
    assert r.status_code == 200
    rid = r.headers["X-Request-Id"]
    line, rec = log_line(stack.portaild, rid)
    assert set(rec) == ACCESS_KEYS, rec
    assert rec["level"] == "info"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["time"]), rec["time"]
    t = datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((t - before).total_seconds()) < 30
    assert rec["request_id"] == rid
    assert rec["method"] == "GET"
    assert rec["path"] == "/api/v1/test/hello"
    assert rec["status"] == 200
    assert isinstance(rec["duration_ms"], (int, float)) and 0 <= rec["duration_ms"] < 10000
    assert rec["module"] == "testmod"
    assert rec["principal"] is None
    assert line.count("\n") == 0 and line.startswith("{") and line.endswith("}")
    assert "SECRET123" not in stack.paths.portaild_log.read_text()


def test_access_log_never_has_query_values(stack, client):
    for path in ("/api/v1/test/hello?token=SECRET123", "/api/v1/nothing?token=SECRET123",
                 "/api/v1/test/slow?ms=SECRET123", "/api/v1/test/items/1?reset=SECRET123"):
        r = client.get(path)
        log_line(stack.portaild, r.headers["X-Request-Id"])
        assert "SECRET123" not in r.headers.get("Location", "")
    r = client.post("/api/v1/test/echo?token=SECRET123", json={"password": "SECRET123"})
    log_line(stack.portaild, r.headers["X-Request-Id"])
    assert "SECRET123" not in stack.paths.portaild_log.read_text()


def test_access_log_principal_and_core(stack):
    c = stack.client()
    c.test_login(kind="member", id=4242, level="member")
    r = c.get("/api/v1/test/member")
    _, rec = log_line(stack.portaild, r.headers["X-Request-Id"])
    assert rec["principal"] == "member:4242" and rec["module"] == "testmod"
    a = stack.client()
    agent = stack.new_agent()  # an agent's session needs its agents row
    a.test_login(kind="agent", id=agent.id, level="agent")
    r = a.get("/api/v1/test/agent")
    _, rec = log_line(stack.portaild, r.headers["X-Request-Id"])
    assert rec["principal"] == "agent:%d" % agent.id
    r = c.get("/api/v1/nothing")
    _, rec = log_line(stack.portaild, r.headers["X-Request-Id"])
    assert rec["module"] == "core" and rec["status"] == 404
    r = c.delete("/api/v1/test/hello")
    _, rec = log_line(stack.portaild, r.headers["X-Request-Id"])
    assert rec["status"] == 405 and rec["method"] == "DELETE"


def test_access_log_escapes_control_characters(stack):
    """nginx refuses raw control bytes in a URI; a FastCGI peer (or another
    front end) may not: the line stays one valid JSON object."""
    path = '/api/v1/x\x01\x1b[31m"quoted"\\back\tslash\x7f'
    params = fcgi.base_params("GET", path, REQUEST_ID="0123456789abcdef0123456789abcdef")
    r = fcgi.request(stack.paths.portaild_socket, params)
    assert r.status == 404
    assert r.json()["instance"] == "/api/v1/x%01%1B[31m\"quoted\"\\back%09slash%7F"
    line, rec = log_line(stack.portaild, "0123456789abcdef0123456789abcdef")
    assert rec["path"] == path
    assert "\x1b" not in line and "\t" not in line and "\x01" not in line


def test_access_log_stays_json_for_hostile_paths(stack):
    cases = [
        b"/api/v1/" + b"a" * 5000,  # longer than a log line
        b"/api/v1/" + b"\x01" * 3000,  # each byte six once escaped
        b"/api/v1/\xff\xfe/caf\xc3\xa9/\xc3",  # not UTF-8
        b"/api/v1/" + "é".encode() * 2000,  # cut, but never inside a character
    ]
    for n, path in enumerate(cases):
        rid = "%032x" % (0xABC000 + n)
        params = fcgi.base_params("GET", "x", REQUEST_ID=rid)
        params["REQUEST_URI"] = path
        r = fcgi.request(stack.paths.portaild_socket, params)
        assert r.status == 404, r.raw[:200]
        problem = r.json()
        assert problem["status"] == 404 and problem["instance"].startswith("/api/v1/")
        line, rec = log_line(stack.portaild, rid)
        assert rec["status"] == 404 and rec["request_id"] == rid
        assert len(line) < 4096
        assert rec["path"].startswith("/api/v1/")
    # Through nginx, raw non-UTF-8 bytes in the path.
    status, headers, _ = parse_raw(raw_http(stack.portaild.nginx.port,
                                            b"GET /api/v1/\xff\xfe HTTP/1.0\r\nHost: x\r\n\r\n"))
    assert status == 404
    _, rec = log_line(stack.portaild, headers["x-request-id"])
    assert rec["path"] == "/api/v1/\ufffd\ufffd"


# ------------------------------------------------------------ concurrency


@pytest.mark.timeout(120)
def test_concurrent_requests(stack):
    base = stack.base_url
    local = threading.local()

    def one(i):
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        r = s.get(base + "/api/v1/test/hello", timeout=60)
        return r.status_code, r.headers.get("X-Request-Id"), r.json()

    with ThreadPoolExecutor(max_workers=16) as ex:
        results = list(ex.map(one, range(200)))
    assert [s for s, _, _ in results] == [200] * 200
    assert all(body == {"hello": "world"} for _, _, body in results)
    ids = [rid for _, rid, _ in results]
    assert len(set(ids)) == 200 and all(ids)
    # Every one of them is one line in the log. A line is written after its
    # response is sent, so the last ones may land a moment later.
    def all_logged():
        data = stack.paths.portaild_log.read_bytes()
        complete = data[:data.rfind(b"\n") + 1].decode("utf-8")
        lines = [json.loads(line) for line in complete.splitlines()]
        return set(ids) <= {rec.get("request_id") for rec in lines if "status" in rec}

    wait_for(all_logged, 5, "every request id in the access log")


@pytest.mark.timeout(120)
def test_concurrent_slow_requests_exceed_threads(stack):
    """More slow requests than worker threads: they queue, none fails."""
    inst = stack.start_portaild({"server": {"threads": 2}})
    base = inst.base_url

    def one(i):
        return requests.get(base + "/api/v1/test/slow?ms=200", timeout=60).status_code

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as ex:
        statuses = list(ex.map(one, range(8)))
    assert statuses == [200] * 8
    assert time.monotonic() - t0 >= 0.75  # 8 × 200 ms over 2 threads
    assert stack.stop_portaild(inst) == 0
