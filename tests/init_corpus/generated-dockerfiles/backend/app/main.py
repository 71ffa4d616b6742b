from __future__ import annotations

app = None
