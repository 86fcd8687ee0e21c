"""The module folders' integration tests (modules/NAME/tests/) use the
harness of tests/integration/conftest.py: its fixtures (stack, client), its
time limit and its names (`from conftest import SESSION_COOKIE`, ...).

The harness is loaded here under its own name and registers its plugin once
per run, so that a run of tests/integration and of module folders together
shares one stack. Run one module's tests alone with
    PORTAIL_BUILD=$PWD/build/normal /usr/bin/python3 -m pytest -q modules/login/tests
"""

import importlib.util
import sys
from pathlib import Path

_HARNESS = Path(__file__).resolve().parents[1] / "tests" / "integration"
if "portail_harness" not in sys.modules:
    # fcgi_client, hostcheck... sit beside the harness.
    sys.path.insert(0, str(_HARNESS))
    _spec = importlib.util.spec_from_file_location("portail_harness", _HARNESS / "conftest.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["portail_harness"] = _mod
    _spec.loader.exec_module(_mod)

# Every name of the harness, for `from conftest import ...` in the tests
# (pytest_configure included: it registers the harness's plugin once).
globals().update({k: v for k, v in vars(sys.modules["portail_harness"]).items()
                  if not k.startswith("__")})
