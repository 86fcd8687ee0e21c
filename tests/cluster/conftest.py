"""The cluster tests use the harness of tests/integration/conftest.py for
its per-test time limit (SIGALRM, @pytest.mark.timeout) and its helpers
(`from conftest import free_port`), loaded under its own name as
modules/conftest.py does. The harness's stack is never started here: no
test asks for it."""

import importlib.util
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_HARNESS = _ROOT / "tests" / "integration"
if "portail_harness" not in sys.modules:
    # fcgi_client sits beside the harness; login_support (TOTP, NIR) in the
    # login module's tests.
    sys.path.insert(0, str(_HARNESS))
    _spec = importlib.util.spec_from_file_location("portail_harness", _HARNESS / "conftest.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["portail_harness"] = _mod
    _spec.loader.exec_module(_mod)
sys.path.insert(0, str(_ROOT / "modules" / "login" / "tests"))

globals().update({k: v for k, v in vars(sys.modules["portail_harness"]).items()
                  if not k.startswith("__")})
