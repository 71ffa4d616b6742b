"""Shared hypothesis settings for the generator property tests: modest and deterministic, so CI time is
bounded and a failure reproduces on every run (derandomize seeds examples from the test itself)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROPERTY = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Through a whole shipit.yaml (load, validate, render): fewer examples, each costs a config load.
CONFIG_PROPERTY = settings(PROPERTY, max_examples=40)

# Arbitrary text, weighted towards what breaks generators: quotes, newlines, template and shell syntax.
_NASTY = st.sampled_from(
    [
        "\n",
        "\r",
        "\t",
        '"',
        "'",
        "\\",
        "$",
        "${",
        "%{",
        "$(",
        "`",
        "#",
        ":",
        " ",
        "{",
        "}",
        "[",
        "]",
        ";",
        "&",
        "|",
        "\x00",
        "\u2028",
        "*",
        "!",
        "/",
        "..",
    ]
)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(_NASTY, st.text(alphabet="abcz09-_./", max_size=6)), max_size=10).map("".join),
)
