"""Redis for `shipit local`: the compose service, the generated password, and the native config."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipit.config import Target
from shipit.errors import UsageError
from shipit.local.compose import check_names, prepare
from shipit.local.redis import PASSWORD_VAR, local_password, native_config

CONFIG = """
version: 1
app: shop
environments: {dev: {project: shop-dev-1, region: us-central1}}
caches:
  sessions: {}
  queue: {env_var: QUEUE_URL, ca_env_var: QUEUE_CA}
services:
  api:
    image: busybox
    caches: [sessions, queue]
  web:
    image: busybox
"""


def _doc(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


@pytest.fixture(autouse=True)
def _no_password_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_VAR, raising=False)


def test_each_cache_is_a_redis_container_the_service_waits_for(make_target: Callable[..., Target]) -> None:
    target = make_target(CONFIG)
    stack = prepare(target)
    password = stack.secret_values[PASSWORD_VAR]
    assert len(password) == 32
    # The password goes to compose's environment only: neither the file nor any argv holds it.
    assert password not in stack.text
    doc = _doc(stack.text)
    services = doc["services"]
    assert list(services) == ["cache-sessions", "cache-queue", "api", "web"]
    cache = services["cache-sessions"]
    assert cache["image"] == "redis:7"
    assert cache["environment"] == {"REDIS_PASSWORD": "${SHIPIT_REDIS_PASSWORD}"}
    assert cache["command"][:2] == ["sh", "-c"] and "requirepass" in cache["command"][2]
    assert "exec redis-server /tmp/redis.conf" in cache["command"][2]
    health = ["CMD-SHELL", 'REDISCLI_AUTH="$$REDIS_PASSWORD" redis-cli ping | grep -q PONG']
    assert cache["healthcheck"]["test"] == health
    assert cache["ports"] == ["127.0.0.1::6379"]
    assert cache["volumes"] == ["cache-sessions-data:/data"]
    assert {"cache-sessions-data", "cache-queue-data"} <= set(doc["volumes"])
    api = services["api"]
    assert api["environment"]["REDIS_URL"] == "redis://:${SHIPIT_REDIS_PASSWORD}@cache-sessions:6379/0"
    assert api["environment"]["QUEUE_URL"] == "redis://:${SHIPIT_REDIS_PASSWORD}@cache-queue:6379/0"
    # No TLS locally: the CA variable exists (as in the cloud) but is empty.
    assert api["environment"]["REDIS_CA_CERT"] == "" and api["environment"]["QUEUE_CA"] == ""
    assert api["depends_on"] == {
        "cache-sessions": {"condition": "service_healthy"},
        "cache-queue": {"condition": "service_healthy"},
    }
    assert "REDIS_URL" not in services["web"]["environment"]
    assert "SHIPIT_REDIS_PASSWORD" in stack.text.split("services:", 1)[0]  # the header says where it comes from


def test_the_password_is_generated_once_private_and_overridable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / ".shipit"
    assert local_password(state, create=False) == ""
    first = local_password(state)
    assert local_password(state) == first
    path = state / "redis-password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (state / ".gitignore").read_text().endswith("*\n")
    monkeypatch.setenv(PASSWORD_VAR, "from-the-shell")
    assert local_password(state) == "from-the-shell"
    # It goes into REDIS_URL and a config line as it is.
    monkeypatch.setenv(PASSWORD_VAR, "has@and/slash")
    with pytest.raises(UsageError, match=PASSWORD_VAR):
        local_password(state)


def test_native_config_holds_the_password_with_owner_only_access(tmp_path: Path) -> None:
    path = native_config(tmp_path / 'my "project"' / "sessions", 6390, "pw-123")
    text = path.read_text()
    assert "requirepass pw-123\n" in text and "bind 127.0.0.1\n" in text and "port 6390\n" in text
    assert f'dir "{tmp_path}/my \\"project\\"/sessions"\n' in text  # quoted: a path may hold spaces
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_service_named_like_a_cache_container_is_refused(make_target: Callable[..., Target]) -> None:
    target = make_target(CONFIG.replace("  web:\n", "  cache-sessions:\n"))
    with pytest.raises(UsageError, match=r"clashes with the compose service shipit adds for caches\.sessions"):
        check_names(target)


def test_ps_lists_each_cache_with_its_published_port_and_no_password(make_target: Callable[..., Target]) -> None:
    from shipit.adapters.compose import ContainerState
    from shipit.local.compose import status

    stack = prepare(make_target(CONFIG))
    # As `docker compose ps` reports them: one cache up (its 6379 on an ephemeral host port), one not created.
    states = [
        ContainerState("cache-sessions", "shop-cache-sessions-1", "running", "healthy", 0, {6379: "0.0.0.0:49153"}),
        ContainerState("api", "shop-api-1", "running", None, 0, {}),
    ]
    rows = {s.service: s for s in status(stack, states)}
    assert rows["cache-sessions"].state == "running (healthy)"
    assert rows["cache-sessions"].url == "redis://127.0.0.1:49153/0"
    assert rows["cache-queue"].state == "not created" and rows["cache-queue"].url is None
    assert all(stack.secret_values[PASSWORD_VAR] not in (s.url or "") for s in rows.values())
