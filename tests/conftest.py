"""Shared fixtures. Real engines (docker, registry, terraform, postgres, compose, pubsub) are started
lazily, once per session, by ``engines.session``; tests marked with an engine's marker get it
started (or skipped/failed under the policy of ``engines.requirements``) before they run.

Add new fixtures in their own section below (e.g. the fake GCP fixtures).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engines import plugin
from engines.docker import DockerEngine
from engines.postgres import PostgresServer
from engines.registry import RegistryServer
from engines.session import ENGINES, Engines

# ---------------------------------------------------------------------------- hooks


def pytest_runtest_setup(item: pytest.Item) -> None:
    plugin.apply_marker_policy(item)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    plugin.record_report(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ENGINES.close_all()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_sep("-", "shipit test engines")
    for line in plugin.summary_lines():
        terminalreporter.write_line(line)


# ---------------------------------------------------------------------------- real engines


@pytest.fixture(scope="session")
def engine_session() -> Iterator[Engines]:
    """The per-session engine cache; its finalizer stops every engine that was started."""
    yield ENGINES
    ENGINES.close_all()


@pytest.fixture(scope="session")
def docker_engine(engine_session: Engines) -> DockerEngine:
    """A ready Docker engine (``.host``, ``.base_image``, ``.client()``, ``.env()``)."""
    engine: DockerEngine = engine_session.require("docker")
    return engine


@pytest.fixture(scope="session")
def compose_cmd(docker_engine: DockerEngine, engine_session: Engines) -> list[str]:
    """argv prefix for compose (Debian's docker-compose v1), talking to ``docker_engine``."""
    cmd: list[str] = engine_session.require("compose")
    return cmd


@pytest.fixture(scope="session")
def registry(engine_session: Engines) -> RegistryServer:
    """A local OCI registry with auth (``.host``, ``.url``, ``.user``, ``.token``)."""
    server: RegistryServer = engine_session.require("registry")
    return server


@pytest.fixture(scope="session")
def terraform_bin(engine_session: Engines) -> str:
    """Path of terraform >= 1.11; TF_CLI_CONFIG_FILE etc. are in ``engine_session`` records."""
    tf = engine_session.require("terraform")
    return str(tf.path)


@pytest.fixture(scope="session")
def postgres_server(engine_session: Engines) -> PostgresServer:
    """A throwaway PostgreSQL server (``.dsn``, ``.host``, ``.port``, ``.user``, ``.password``)."""
    server: PostgresServer = engine_session.require("postgres")
    return server


@pytest.fixture(scope="session")
def pubsub_emulator(engine_session: Engines) -> str:
    """host:port of the Pub/Sub emulator (the value for PUBSUB_EMULATOR_HOST)."""
    return str(engine_session.require("pubsub").host)


# ---------------------------------------------------------------------------- fake Google Cloud APIs

from e2e_support import fake_server_env  # noqa: E402, F401  (kept importable as conftest.fake_server_env)
from fakegcp.fixtures import fake_gcp, fake_gcp_mock, fake_gcp_server, gcp  # noqa: E402, F401


@pytest.fixture
def gcp_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """shipit's clients authenticate with a static test token (and forget cached credentials after)."""
    from shipit.adapters.gcp import auth

    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", "test-token")
    for api in ("RUN", "SECRETMANAGER", "ARTIFACTREGISTRY"):
        monkeypatch.delenv(f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api}", raising=False)
    auth.reset_cache()
    yield "test-token"
    auth.reset_cache()


@pytest.fixture(autouse=True)
def _fresh_redactor() -> Iterator[None]:
    """Secret values registered by one test must not mask another test's output."""
    yield
    from shipit.output import REDACTOR

    REDACTOR.clear()


# ---------------------------------------------------------------------------- write pacing

from pacing_support import VirtualClock  # noqa: E402


@pytest.fixture(autouse=True)
def pacing_clock() -> Iterator[VirtualClock]:
    """Every test paces Cloud Run writes on its own virtual clock, with fresh buckets."""
    from shipit import pacing

    clock = VirtualClock()
    pacing.reset()
    pacing.use_clock(clock.monotonic, clock.sleep)
    yield clock
    pacing.reset()
