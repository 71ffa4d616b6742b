"""`shipit --help` must not import the heavy libraries: cloud SDKs, docker/terraform wrappers, rich, pydantic.

Speed itself is measured by benchmarks/startup.py (no timing assertions in tests); this guards the cause.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("google", "grpc", "python_on_whales", "python_terraform", "rich", "pydantic", "yaml")

PROGRAM = """
import json, sys
from shipit.cli.main import main
try:
    main(["--help"])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stdout.flush()
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_help_imports_nothing_heavy() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True, timeout=60)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None)
    assert "Usage: shipit" in result.stdout
    heavy = [m for m in report["modules"] if m.split(".")[0] in HEAVY]
    assert heavy == [], f"`shipit --help` imported {heavy}; import them inside the functions that need them"


def test_importing_the_cli_imports_nothing_heavy() -> None:
    program = "import sys, shipit.cli, shipit.cli.main, shipit.cli.app; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60)
    heavy = [m for m in result.stdout.split() if m.split(".")[0] in HEAVY]
    assert heavy == []
