"""Issue 14, item 13: common and breached passwords are refused (list of the
npm packages @zxcvbn-ts/language-common and language-fr, put into the
cracklib dictionary by script/cracklib-dict), after undoing case, l33t and
the digits and symbols added at either end, and so are the service's and the
fund's names with digits; passphrases still pass."""

import pytest

from login_support import OTHER_PASSWORD, PASSWORD, Accounts


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


COMMON = ["P@ssw0rd1234", "Password1234", "Welcome12345", "Motdepasse2024!",
          "Portail2024!!", "p0rt@il-123456",
          # the fund's name (default: "votre caisse d’Assurance Maladie")
          "Assurance-2024!", "Maladie1234567"]


def test_common_passwords_refused_with_a_french_message(stack, accounts):
    m = accounts.enrolled()
    for weak in COMMON:
        r = m.client.post("/api/v1/password/change", json={"current": PASSWORD, "new": weak})
        assert r.status_code == 422, (weak, r.text)
        errs = {e["field"]: e["message"] for e in r.json()["errors"]}
        assert "trop courant" in errs["new"], (weak, errs)
        assert "divulgués" in errs["new"], (weak, errs)
    # A passphrase still passes, and the password did not change on the way.
    r = m.client.post("/api/v1/password/change",
                      json={"current": PASSWORD, "new": OTHER_PASSWORD})
    assert r.status_code == 200, r.text
