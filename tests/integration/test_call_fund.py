"""Issue 15: every "call your fund" of the API's messages and the lock mails
is one core sentence (portail_call_fund, core/brand.c) made from brand.phone
and brand.phone_note, not a "36 46" written in the login core and the
unlock module: a fund with another number gets its own number everywhere,
and one without a phone sends the member to the fund without a number. The
lock page's "call" step carries the number to dial (its button), so that no
page script writes one either."""

import pytest

from conftest import lock_account, wait_mail

PHONE, NOTE = "01 23 45 67 89", "prix d’un appel local"
CALL = "appelez votre caisse au %s (%s)" % (PHONE, NOTE)


def private_client(stack, c):
    """Another client of the same private portaild (its own cookies)."""
    return stack.client(base_url=c.base_url, origin=c.origin)


def private(stack, tmp_path, brand):
    root = stack.private_webroot(tmp_path / "web")
    brand = dict(brand, partials_dir=str(root / "partials" / "marque"))
    inst = stack.start_portaild({"brand": brand}, webroot=root)
    return stack.client(base_url=inst.base_url, origin=inst.origin)


def call_step(stack, client, member):
    """The lock page's call_fund step (GET /api/v1/unlock/status, partial
    session) of a locked member."""
    client.test_login(id=member.id, level="partial")
    r = client.get("/api/v1/unlock/status")
    assert r.status_code == 200, r.text
    return [s for s in r.json()["steps"] if s["kind"] == "call_fund"][0]


def gone_link_detail(client):
    r = client.post("/api/v1/account/verify/check", json={"token": "z" * 43})
    assert r.status_code == 410, r.text
    return r.json()["detail"]


@pytest.mark.timeout(120)
def test_the_configured_phone_in_the_core_and_the_unlock_module(stack, tmp_path):
    c = private(stack, tmp_path, {"phone": PHONE, "phone_note": NOTE})
    # The unlock module's answer.
    detail = gone_link_detail(c)
    assert detail.endswith("Si votre compte est toujours bloqué, %s." % CALL), detail
    assert "36 46" not in detail
    # The core's lock steps, in the lock mail.
    for reason, sentence in (
            ("agent", "Pour connaître le motif du blocage et faire débloquer votre compte, %s." % CALL),
            ("suspicious", "Appelez votre caisse au %s (%s), ou écrivez-lui" % (PHONE, NOTE)),
            ("password", "Autre solution\u00a0: %s." % CALL)):
        member = stack.new_member()
        lock_account(c, member, reason)
        body = wait_mail(stack, member, "Votre compte a été bloqué")["body"]
        assert sentence in body, (reason, body)
        assert "36 46" not in body, (reason, body)
        # The lock page's button dials the fund's own number.
        step = call_step(stack, private_client(stack, c), member)
        assert step["phone"] == PHONE and step["tel"] == "0123456789", step


@pytest.mark.timeout(120)
def test_without_a_phone_the_member_is_sent_to_the_fund(stack, tmp_path):
    c = private(stack, tmp_path, {"phone": "", "phone_note": ""})
    detail = gone_link_detail(c)
    assert detail.endswith("Si votre compte est toujours bloqué, contactez votre caisse."), detail
    member = stack.new_member()
    lock_account(c, member, "agent")
    body = wait_mail(stack, member, "Votre compte a été bloqué")["body"]
    assert "faire débloquer votre compte, contactez votre caisse." in body, body
    # No number: no button to dial one.
    step = call_step(stack, private_client(stack, c), member)
    assert "phone" not in step and "tel" not in step, step
