"""Parity: every service sees the same variable NAMES locally as in its rendered Cloud Run Service.

The cloud side is the deploy step's own resolver and shipit.render.cloudrun.render_service, so a change on
either side that makes a variable exist in one place only fails here.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from shipit.config import Target, load_config, resolve_target
from shipit.local.compose_file import compose_endpoints
from shipit.local.env import DatabaseEndpoint, Endpoints, all_service_envs
from shipit.local.redis import CacheEndpoint
from shipit.output import Console
from shipit.render.cloudrun import render_service
from shipit.steps.context import RunOptions, StepContext
from shipit.steps.services.inputs import resolve_inputs

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = [REPO / "shipit.yaml.example", *sorted(REPO.glob("examples/*/shipit.yaml"))]


def _cloud_env_names(target: Target, service: str) -> set[str]:
    images = tuple((name, f"r-docker.pkg.dev/p/r/{name}@sha256:{'0' * 64}") for name in target.config.services)
    ctx = StepContext(target, Console(stdout=io.StringIO(), stderr=io.StringIO()), RunOptions(images=images))
    urls = {name: f"https://{name}-x.a.run.app" for name in target.config.services}
    inputs, _pending = resolve_inputs(ctx, service, None, urls, set())
    spec: dict[str, Any] = render_service(target.config.services[service], inputs)
    return {env["name"] for env in spec["template"]["containers"][0].get("env", [])}


def _native(target: Target) -> Endpoints:
    names = list(target.config.services)
    return Endpoints(
        "native",
        {n: f"http://127.0.0.1:{9000 + i}" for i, n in enumerate(names)},
        {n: 9000 + i for i, n in enumerate(names)},
        {k: DatabaseEndpoint("127.0.0.1", 5999, k, "app") for k in target.config.databases},
        "127.0.0.1:8999" if target.config.pubsub else None,
        {k: CacheEndpoint("127.0.0.1", 6399, "local-pw") for k in target.config.caches},
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_local_env_names_match_the_cloud_run_rendering(example: Path) -> None:
    loaded = load_config(example)
    for env_name in loaded.environment_names():
        target = resolve_target(loaded, env_name)
        secrets = {k: "v" for svc in target.config.services.values() for k in svc.secrets}
        for endpoints in (compose_endpoints(target), _native(target)):
            for name, env in all_service_envs(target, endpoints, secrets).items():
                assert env.parity_names() == _cloud_env_names(target, name), (env_name, endpoints.runtime, name)
