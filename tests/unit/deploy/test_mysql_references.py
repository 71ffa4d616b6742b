"""`${databases.X.port}` on Cloud Run is the engine's port: 3306 for `engine: mysql`, 5432 for Postgres."""

from __future__ import annotations

import io
from pathlib import Path

from shipit.config import load_config, resolve_target
from shipit.output import Console
from shipit.steps import services as services_step
from shipit.steps.context import RunOptions, StepContext
from step_results import typed_results
from unit.deploy.test_pipeline_inputs import MODULE_OUTPUTS
from unit.deploy.test_planner import IMG, OPTS, MemoryRun, on

CONFIG = """\
version: 1
app: acme
environments:
  staging: {project: acme-staging, region: us-central1}
databases:
  main: {engine: mysql}
  pg: {env_var: PG_URL}
services:
  api:
    databases: [main]
    env: {DB_HOST: "${databases.main.host}", DB_PORT: "${databases.main.port}", PG_PORT: "${databases.pg.port}"}
"""


def test_database_port_reference_follows_the_engine(tmp_path: Path) -> None:
    (tmp_path / "shipit.yaml").write_text(CONFIG)
    target = resolve_target(load_config(tmp_path / "shipit.yaml", "shipit.yaml"), "staging")
    ctx = StepContext(
        target=target,
        console=Console(stdout=io.StringIO(), stderr=io.StringIO()),
        options=RunOptions(images=(("api", IMG),)),
        results=typed_results({"infra": MODULE_OUTPUTS}),
    )
    api = MemoryRun()
    ctx = on(ctx, api)
    services_step.apply(ctx, services_step.plan(ctx, OPTS))
    container = next(iter(api.services.values()))["template"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["DB_HOST"], env["DB_PORT"], env["PG_PORT"]) == ("10.1.0.3", "3306", "5432")
