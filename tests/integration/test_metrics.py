"""GET /metrics on server.metrics_socket (a FastCGI socket of its own):
counters by route pattern and status, histograms, gauges, per-module 5xx,
and never through the public site."""
import re
import time

import pytest

import fcgi_client
from conftest import REPO, client_of, fresh_ip, member_client

EXAMPLE = {"name": "example", "enabled": True, "path": "example.so",
           "dir": str(REPO / "tests" / "modules" / "example"), "settings": {"max_notes": 3}}

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)\})? (\S+)$" % (NAME, LABEL, LABEL))


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], v)


def parse(text):
    """A strict reader of the text format 0.0.4: every line a # HELP,
    # TYPE or sample; a family's samples after its TYPE, together; values
    numbers. Returns ({(name, frozenset(labels)): value}, {family: type})."""
    assert text.endswith("\n")
    samples, types, seen_done, current = {}, {}, set(), None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split(" ")
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert fam not in types, "family %s typed twice" % fam
            if current:
                seen_done.add(current)
            types[fam], current = typ, fam
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, value = m.group(1), m.group(m.lastindex)
        labels = frozenset((k, unescape(v)) for k, v in
                           re.findall(LABEL, m.group(2) or ""))
        fam = re.sub(r"_(bucket|sum|count)$", "", name) if types.get(
            re.sub(r"_(bucket|sum|count)$", "", name)) == "histogram" else name
        assert fam == current, "sample %s outside its family (%s)" % (name, current)
        assert fam not in seen_done
        key = (name, labels)
        assert key not in samples, "duplicate series %r" % (key,)
        samples[key] = float(value)
    return samples, types


def scrape(inst, method="GET", uri="/metrics"):
    r = fcgi_client.request(inst.metrics_socket, fcgi_client.base_params(method=method, uri=uri))
    return r


def metrics(inst):
    r = scrape(inst)
    assert r.status == 200, r.raw[:300]
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(r.body.decode("utf-8"))


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def metrics_once(inst, counted):
    """The metrics once counted(samples) holds: a request is counted after
    its answer has gone (its worker still finishing), so a scrape right
    after the client's last answer may not see it yet. Up to 5 s."""
    deadline = time.monotonic() + 5
    while True:
        samples, types = metrics(inst)
        if counted(samples) or time.monotonic() > deadline:
            return samples, types
        time.sleep(0.05)


@pytest.fixture(scope="module")
def example_table(stack):
    stack.migrate(stack.write_config({"modules": modules(stack)}))


def modules(stack):
    return [dict(m) for m in stack.config["modules"]] + [dict(EXAMPLE)]


@pytest.fixture
def inst(stack, example_table):
    """A private portaild (stopped after each test) with the example module
    and a metrics socket: no other test's requests reach its counters."""
    path = stack.base / ("metrics-%s.sock" % fresh_ip().replace(".", "-"))
    i = stack.start_portaild({"server": {"metrics_socket": str(path)}, "modules": modules(stack)})
    i.metrics_socket = path
    return i


def test_requests_by_route_pattern_and_status(stack, inst):
    before, types = metrics(inst)
    assert types["portail_http_requests_total"] == "counter"
    assert types["portail_http_request_duration_seconds"] == "histogram"
    c = client_of(stack, inst)
    for _ in range(5):
        assert c.get("/api/v1/hello").status_code == 200
    # Three raw paths, one route pattern: one series.
    for i in (1, 2, 3):
        c.get("/api/v1/test/items/%d" % i)
    for i in range(4):
        assert c.get("/api/v1/nothing/here/%d" % i).status_code == 404
    unmatched = dict(route="unmatched", method="GET", module="core", status="404")
    after, _ = metrics_once(inst, lambda m: value(m, "portail_http_requests_total", **unmatched) -
                            value(before, "portail_http_requests_total", **unmatched) >= 4)
    hello = dict(route="/api/v1/hello", method="GET", module="hello")
    assert value(after, "portail_http_requests_total", status="200", **hello) - \
        value(before, "portail_http_requests_total", status="200", **hello) == 5
    items = [k for k in after if k[0] == "portail_http_requests_total" and
             ("route", "/api/v1/test/items/{id}") in k[1]]
    assert items and sum(after[k] - before.get(k, 0) for k in items) == 3
    assert not any("/api/v1/test/items/1" == v for k in after for _, v in k[1])
    assert value(after, "portail_http_requests_total", **unmatched) - \
        value(before, "portail_http_requests_total", **unmatched) == 4

    # Histogram: cumulative buckets, +Inf == _count == the requests.
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in after.items()
                      if k[0] == "portail_http_request_duration_seconds_bucket" and
                      frozenset(hello.items()) <= k[1]), key=lambda x: x[0])
    assert len(buckets) == 12 and buckets[-1][0] == float("inf")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    count = value(after, "portail_http_request_duration_seconds_count", **hello)
    assert buckets[-1][1] == count
    assert count - value(before, "portail_http_request_duration_seconds_count", **hello) == 5
    total = sum(v for k, v in after.items() if k[0] == "portail_http_requests_total" and
                frozenset(hello.items()) <= k[1])
    assert count == total
    assert value(after, "portail_http_request_duration_seconds_sum", **hello) > 0


def test_gauges_present(stack, inst):
    s, types = metrics(inst)
    for name in ("portail_db_pool_size", "portail_db_pool_in_use", "portail_db_pool_waiting",
                 "portail_password_hash_slots_busy", "portail_uptime_seconds",
                 "process_resident_memory_bytes", "portail_mail_outbox_backlog"):
        assert types[name] == "gauge", name
    assert types["portail_db_pool_waits_total"] == "counter"
    assert value(s, "portail_db_pool_size") == 4
    assert 0 <= value(s, "portail_db_pool_in_use") <= 4
    assert value(s, "portail_db_up") == 1
    assert value(s, "process_resident_memory_bytes") > 1 << 20
    assert ("portail_jobs_backlog", frozenset({("state", "queued")})) in s
    queued = int(stack.sql("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL")[0][0])
    assert value(s, "portail_mail_outbox_backlog") >= 0 and queued >= 0


def test_module_5xx_counted_for_its_module(stack, inst):
    before, _ = metrics(inst)
    member = member_client(stack, inst=inst)
    member.post("/api/v1/example/notes", json={"text": "x"})
    for _ in range(2):
        assert member.get("/api/v1/example/misuse").status_code == 500
    after, _ = metrics_once(inst, lambda m: value(m, "portail_module_errors_total", module="example") -
                            value(before, "portail_module_errors_total", module="example") >= 2)
    assert value(after, "portail_module_errors_total", module="example") - \
        value(before, "portail_module_errors_total", module="example") == 2
    assert value(after, "portail_module_errors_total", module="hello") == 0
    series = [k for k in after if k[0] == "portail_http_requests_total" and
              ("module", "example") in k[1] and ("status", "500") in k[1]]
    assert series and sum(after[k] - before.get(k, 0) for k in series) == 2


def test_only_get_metrics_on_the_listener(inst):
    assert scrape(inst, uri="/api/v1/health").status == 404
    assert scrape(inst, method="POST").status == 405
    r = scrape(inst, method="HEAD")
    assert r.status == 200 and r.body == b""


def test_public_nginx_does_not_serve_metrics(stack, inst):
    for base in (inst, stack):
        c = client_of(stack, inst) if base is inst else stack.client()
        r = c.get("/metrics")
        assert r.status_code == 404
        assert "portail_http_requests_total" not in r.text


def test_metrics_socket_must_differ_from_listen(stack):
    rc, out, err = stack.check_config({"server": {"metrics_socket":
                                                  str(stack.base / "same.sock"),
                                                  "listen": str(stack.base / "same.sock")}})
    assert rc != 0 and "metrics_socket must differ" in err + out
