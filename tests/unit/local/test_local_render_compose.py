"""The generated compose file: readable, complete, and without a secret value in it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipit.config import Target, load_config, resolve_target
from shipit.errors import UsageError
from shipit.local.compose import check_names, export, prepare

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def example(tmp_path: Path) -> Target:
    shutil.copy(REPO / "shipit.yaml.example", tmp_path / "shipit.yaml")
    (tmp_path / ".env.staging").write_text("STRIPE_KEY=sk_test_do_not_print_me\n")
    return resolve_target(load_config(tmp_path / "shipit.yaml"), None)


def _doc(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_example_renders_every_part(example: Target) -> None:
    stack = prepare(example)
    assert "sk_test_do_not_print_me" not in stack.text
    services = _doc(stack.text)["services"]
    assert list(services) == ["db-main", "pubsub-emulator", "api", "web", "worker"]

    db = services["db-main"]
    assert db["image"] == "postgres:16-alpine"
    assert db["volumes"] == ["db-main-data:/var/lib/postgresql/data"]
    assert db["healthcheck"]["test"] == ["CMD-SHELL", "pg_isready -U app -d main"]
    assert _doc(stack.text)["volumes"] == {"db-main-data": {}}

    api = services["api"]
    assert api["build"] == {"context": "../backend", "target": "dev"}  # local.target wins over build.target
    assert api["command"][:2] == ["uvicorn", "app.main:app"]
    assert api["volumes"] == ["../backend:/app"]
    assert api["environment"]["DATABASE_URL"] == "postgresql://app:shipit@db-main:5432/main"
    assert api["environment"]["STRIPE_KEY"] == "${STRIPE_KEY}"
    assert api["environment"]["PUBSUB_EMULATOR_HOST"] == "pubsub-emulator:8085"
    assert api["depends_on"] == {
        "db-main": {"condition": "service_healthy"},
        "pubsub-emulator": {"condition": "service_healthy"},
    }
    assert services["worker"]["build"]["target"] == "runtime"
    assert services["web"]["environment"]["API_URL"] == "http://api:8080"
    assert services["web"]["depends_on"]["api"] == {"condition": "service_started"}
    # two services on 8080: each gets its own host port, on loopback only
    assert [services[s]["ports"] for s in ("api", "web")] == [["127.0.0.1:8080:8080"], ["127.0.0.1:8081:8080"]]
    # the worker (kind: worker) publishes nothing and gets no PORT, as on Cloud Run; it gets the emulator
    worker = services["worker"]
    assert "ports" not in worker and "PORT" not in worker["environment"]
    assert worker["environment"]["PUBSUB_EMULATOR_HOST"] == "pubsub-emulator:8085"
    assert services["pubsub-emulator"]["command"][-1] == "--project=acme-staging"


def test_export_is_relative_to_shipit_yaml(example: Target) -> None:
    services = _doc(export(example))["services"]
    assert services["api"]["build"]["context"] == "./backend"
    assert services["api"]["volumes"] == ["./backend:/app"]


def test_dollar_signs_are_escaped_and_named_volumes_declared(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        services:
          api:
            image: busybox
            env: {PRICE: "$$5", RAW: "$x"}
            local:
              command: [sh, -c, "echo $PORT"]
              volumes: [cache:/cache, ./src:/src:ro]
              ports: ["127.0.0.1::8080", "9229:9229"]
        """
    )
    text = prepare(target).text
    api = _doc(text)["services"]["api"]
    assert api["image"] == "busybox"
    assert api["environment"]["RAW"] == "$$x"
    assert api["command"] == ["sh", "-c", "echo $$PORT"]
    assert api["volumes"] == ["cache:/cache", "../src:/src:ro"]  # relative to .shipit/compose.yaml
    assert api["ports"] == ["127.0.0.1::8080", "127.0.0.1:9229:9229"]
    assert _doc(text)["volumes"] == {"cache": {}}


def test_a_service_named_like_a_shipit_service_is_refused(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        databases: {main: {}}
        services:
          db-main: {image: busybox}
        """
    )
    with pytest.raises(UsageError, match="clashes"):
        check_names(target)


def test_sidecars_share_the_network_and_volumes_map_to_compose(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        services:
          api:
            image: busybox
            volumes:
              cache: {empty_dir: {size_limit: 64Mi}, mount: /cache}
              media: {gcs: {bucket: shop-media, read_only: true}, mount: /media}
            sidecars:
              proxy:
                image: nginx:1.27
                command: [nginx]
                args: [-g, daemon off;]
                env: {UPSTREAM: "${services.api.url}"}
                secrets: [TOKEN]
                mounts: {cache: /var/cache/nginx}
        """,
        dotenv="TOKEN=t0k\n",
    )
    stack = prepare(target)
    doc = _doc(stack.text)
    assert doc["services"]["api"]["volumes"] == ["api-cache:/cache", "api-media:/media:ro"]
    proxy = doc["services"]["api-proxy"]
    # Like the containers of one Cloud Run instance: localhost is shared, so is the in-memory volume.
    assert proxy["network_mode"] == "service:api"
    assert proxy["entrypoint"] == ["nginx"] and proxy["command"] == ["-g", "daemon off;"]
    assert proxy["environment"] == {"UPSTREAM": "http://api:8080", "TOKEN": "${TOKEN}"}
    assert proxy["volumes"] == ["api-cache:/var/cache/nginx"]
    assert proxy["depends_on"] == {"api": {"condition": "service_started"}}
    assert doc["volumes"] == {
        "api-cache": {"driver_opts": {"type": "tmpfs", "device": "tmpfs", "o": f"size={64 * 1024 * 1024}"}},
        "api-media": {},
    }
    assert "t0k" not in stack.text and stack.secret_values["TOKEN"] == "t0k"


def test_a_built_sidecar_is_built_by_compose(make_target: Callable[..., Target]) -> None:
    target = make_target(
        """
        version: 1
        app: shop
        environments: {dev: {project: shop-dev-1, region: us-central1}}
        services:
          api:
            image: busybox
            sidecars:
              proxy:
                build: {context: ./proxy, dockerfile: Dockerfile.prod, target: runtime, args: {V: "1"}}
        """
    )
    (target.root / "proxy").mkdir()
    proxy = _doc(prepare(target).text)["services"]["api-proxy"]
    assert "image" not in proxy
    assert proxy["build"]["dockerfile"] == "Dockerfile.prod" and proxy["build"]["target"] == "runtime"
    assert proxy["build"]["args"] == {"V": "1"} and proxy["build"]["context"].endswith("proxy")
