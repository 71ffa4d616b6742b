from __future__ import annotations

import sys
from pathlib import Path

# The config builders and HCL helpers are shared with tests/unit/infra.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "infra"))
