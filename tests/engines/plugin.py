"""pytest glue for the engines: the marker policy and the terminal summary (called from conftest)."""

from __future__ import annotations

from collections import Counter

import pytest

from engines.requirements import MARKER_ENGINES, engines_for_markers, require_all
from engines.session import ENGINES

_outcomes: dict[str, str] = {}


def apply_marker_policy(item: pytest.Item) -> None:
    """Start the engines that the item's markers ask for; skip/fail it when one is missing."""
    names = {mark.name for mark in item.iter_markers()}
    for engine in engines_for_markers(names):
        ENGINES.require(engine)


def record_report(report: pytest.TestReport) -> None:
    if not any(marker in report.keywords for marker in MARKER_ENGINES):
        return
    if (report.when == "setup" and not report.passed) or report.when == "call":
        _outcomes[report.nodeid] = report.outcome
    elif report.when == "teardown" and report.failed:
        _outcomes[report.nodeid] = "failed"


def summary_lines() -> list[str]:
    counts = Counter(_outcomes.values())
    ran = counts["passed"] + counts["failed"]
    lines = []
    if ENGINES.records:
        for record in ENGINES.records.values():
            lines.append(("started " if record.available else "") + record.describe())
    else:
        lines.append("no engine was needed")
    lines.append(
        f"engine-marked tests: ran {ran} (passed {counts['passed']}, failed {counts['failed']}), "
        f"skipped {counts['skipped']}; SHIPIT_TEST_REQUIRE_ALL={'1' if require_all() else '0'}"
    )
    return lines
