from __future__ import annotations

import io
import json

from shipit.output import MASK, Console, Redactor


def test_registered_values_are_masked_in_text_and_multiline_parts() -> None:
    redactor = Redactor()
    redactor.register("line-one-secret\nline-two-secret")
    assert redactor.redact("a line-two-secret b") == f"a {MASK} b"
    assert redactor.redact("line-one-secret\nline-two-secret") == MASK


def test_setting_like_values_and_short_numbers_are_not_treated_as_secrets() -> None:
    redactor = Redactor()
    for value in ("true", "False", "debug", "8080", "abc", "12345"):
        redactor.register(value)
    assert redactor.redact("true false debug 8080 abc 12345") == "true false debug 8080 abc 12345"
    redactor.register("123456")
    assert redactor.redact("pin 123456") == f"pin {MASK}"


def test_json_output_is_redacted_as_data_and_stays_valid(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from shipit import output

    redactor = Redactor()
    redactor.register('s3cr"et-value')  # a quote inside the value: text masking would break the JSON
    monkeypatch.setattr(output, "REDACTOR", redactor)
    out = io.StringIO()
    Console(json_mode=True, stdout=out, stderr=io.StringIO()).emit(
        {"ok": True, "value": 's3cr"et-value', "nested": [{"k": 'x s3cr"et-value y'}]}
    )
    data = json.loads(out.getvalue())
    assert data == {"ok": True, "value": MASK, "nested": [{"k": f"x {MASK} y"}]}
