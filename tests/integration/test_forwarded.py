"""X-Forwarded-For (issue 14 item 14): the shipped site trusts no proxy, so
a client cannot choose the address that the country rule, the throttles and
the events see. The test stack declares 127.0.0.1 as a trusted proxy (its
tests pose as other addresses through it); here a private nginx declares
none, as the shipped site does."""

import os
import re
import subprocess

import pytest

from conftest import REPO, nginx_values


def events(stack, member_id):
    return stack.sql("SELECT ip, country FROM security_events WHERE member_id = %d ORDER BY id"
                     % member_id)


def render_shipped(tmp_path, trusted=None):
    """nginx.conf as script/server renders it (script/lib.sh)."""
    env = dict(os.environ, PORTAIL_ROOT=str(REPO))
    args = [str(tmp_path), "8089", str(REPO / "web"), str(tmp_path / "p.sock"),
            str(tmp_path / "acl.conf")]
    args.append(trusted or "")
    args.append("\n".join("%s=%s" % kv for kv in nginx_values().items()))
    r = subprocess.run(["bash", "-c", 'source "$PORTAIL_ROOT/script/lib.sh"; '
                        'portail_nginx_render "$@"', "x"] + args,
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return (tmp_path / "nginx.conf").read_text()


def real_ip_lines(text):
    return re.findall(r"(?m)(?<![#\w])set_real_ip_from [^;]*;",
                      "\n".join(l for l in text.splitlines() if not l.strip().startswith("#")))


def test_the_shipped_site_trusts_no_proxy(tmp_path):
    assert real_ip_lines(render_shipped(tmp_path)) == []


def test_trusted_proxies_come_from_the_setting(tmp_path):
    text = render_shipped(tmp_path, "10.1.2.3, 2001:db8::1")
    assert real_ip_lines(text) == ["set_real_ip_from 10.1.2.3;", "set_real_ip_from 2001:db8::1;"]


@pytest.mark.timeout(90)
def test_x_forwarded_for_from_an_untrusted_client_is_ignored(stack):
    inst = stack.start_portaild(trusted_proxies=())
    member = stack.new_member()
    c = stack.client(xff="8.8.8.8", base_url=inst.base_url, origin=inst.origin)
    r = c.post("/api/v1/test/account/%d/event" % member.id,
               json={"kind": "test", "detail": "xff"})
    assert r.status_code == 201, r.text
    # The real address (the test's own, 127.0.0.1), not the claimed one
    # nor its country.
    assert events(stack, member.id) in ([["127.0.0.1", None]], [["127.0.0.1", ""]])
    stack.stop_portaild(inst)
    # Through the stack's declared proxy the same header counts.
    c = stack.client(xff="8.8.8.8")
    assert c.post("/api/v1/test/account/%d/event" % member.id,
                  json={"kind": "test", "detail": "xff"}).status_code == 201
    assert events(stack, member.id)[-1] == ["8.8.8.8", "US"]
