"""Every form a secret can take on its way to a stream is masked; the static access token is stripped,
validated without being echoed, and masked before anything can print it."""

from __future__ import annotations

import base64
import json

import pytest

from shipit.adapters.gcp import auth
from shipit.errors import UsageError
from shipit.output import MASK, REDACTOR, Redactor

VALUES = [
    "CANARY-plain-7f3a9b1c",
    "-----BEGIN KEY-----\nCANARY-pem-line-0c4d\nCANARY-pem-line-9e8f\n-----END KEY-----\n",
    '{"private_key": "CANARY\\njson-2b6d", "x": "q\\"uote"}',
    "CANARY.*+?[](){}|^$\\d-regex",
    "CANARY-token-with-newline-55e1\n",
]


@pytest.mark.parametrize("value", VALUES)
def test_every_form_is_masked(value: str) -> None:
    redactor = Redactor()
    redactor.register(value)
    data = value.encode()
    forms = [
        value,
        value.strip(),
        json.dumps(value)[1:-1],
        repr(value)[1:-1],
        json.dumps({"v": value}),
        repr({"Authorization": f"Bearer {value}"}),
        base64.b64encode(data).decode(),
        base64.urlsafe_b64encode(data).decode().rstrip("="),
        *(line for line in value.splitlines() if len(line.strip()) >= 8),
    ]
    for form in forms:
        shown = redactor.redact(f"before {form} after")
        assert value.strip() not in shown and "CANARY" not in shown, (form, shown)
        assert MASK in shown


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    auth.reset_cache()
    REDACTOR.clear()
    yield monkeypatch
    auth.reset_cache()
    REDACTOR.clear()


def test_token_with_trailing_newline_is_stripped_and_masked(token_env: pytest.MonkeyPatch) -> None:
    token_env.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", "ya29.CANARY-token-55e1\n")
    creds, _ = auth.credentials()
    assert creds.token == "ya29.CANARY-token-55e1"
    header = repr({"Authorization": "Bearer ya29.CANARY-token-55e1\n"})
    assert "CANARY" not in REDACTOR.redact(header)
    docker_auth = base64.b64encode(b"oauth2accesstoken:ya29.CANARY-token-55e1").decode()
    assert REDACTOR.redact(docker_auth) == MASK


@pytest.mark.parametrize("raw", ["ya29.CANARY tok", "ya29.CANARY\ttok\n", "ya29.CANARY\x07tok", "ya29.CANARYé"])
def test_token_with_inner_whitespace_is_refused_without_echo(token_env: pytest.MonkeyPatch, raw: str) -> None:
    token_env.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", raw)
    with pytest.raises(UsageError) as caught:
        auth.credentials()
    assert caught.value.exit_code == 2
    assert "CANARY" not in caught.value.render() and "\n" not in caught.value.render()
    assert "CLOUDSDK_AUTH_ACCESS_TOKEN" in caught.value.render()


def test_blank_token_falls_back_like_an_unset_one(token_env: pytest.MonkeyPatch) -> None:
    token_env.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", " \n")
    assert auth.static_token() is None
