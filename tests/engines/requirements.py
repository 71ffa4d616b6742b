"""The policy for engines that are missing: skip the test with the reason, or fail it.

Each engine is either available or missing with a reason. When missing, a test that needs it
(through its marker or its fixture) is skipped with that reason, unless the environment sets
``SHIPIT_TEST_REQUIRE_ALL=1`` (as CI does), in which case the test FAILS instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

#: pytest marker -> engines that a test carrying it needs (in start order).
MARKER_ENGINES: dict[str, tuple[str, ...]] = {
    "docker": ("docker",),
    "registry": ("registry",),
    "terraform": ("terraform",),
    "postgres": ("postgres",),
    "mariadb": ("mariadb",),
    "compose": ("docker", "compose"),
    "pubsub": ("pubsub",),
    "gcloud": ("gcloud",),
}


class EngineUnavailable(Exception):
    """An engine cannot be found or started here; the message is the reason."""


def require_all() -> bool:
    return os.environ.get("SHIPIT_TEST_REQUIRE_ALL", "").strip().lower() in {"1", "true", "yes"}


def missing(engine: str, reason: str) -> NoReturn:
    """Skip the current test because ``engine`` is missing, or fail it under REQUIRE_ALL."""
    message = f"{engine} engine unavailable: {reason}"
    if require_all():
        pytest.fail(f"{message} (SHIPIT_TEST_REQUIRE_ALL=1)", pytrace=False)
    pytest.skip(message)


def engines_for_markers(marker_names: set[str]) -> list[str]:
    out: list[str] = []
    for marker in MARKER_ENGINES:
        if marker in marker_names:
            for engine in MARKER_ENGINES[marker]:
                if engine not in out:
                    out.append(engine)
    return out
