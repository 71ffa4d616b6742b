"""The test gate: the configured command must pass before anything is released."""

from __future__ import annotations

import os
import shlex

from shipit.plan import Plan
from shipit.results import TestResult
from shipit.steps.context import StepContext

STEP = "test"


def plan(ctx: StepContext) -> Plan:
    test = ctx.target.config.test
    if test is None:
        return Plan.of(STEP, (), ["no test command configured (test.command in shipit.yaml)"])
    return Plan.of(STEP, (), [f"runs `{shlex.join(test.command)}` before the release"])


def apply(ctx: StepContext, plan: Plan) -> TestResult:
    from shipit.adapters.process import run
    from shipit.errors import CommandFailed, ShipitError

    test = ctx.target.config.test
    if test is None:
        return TestResult()
    env = _secret_env(ctx, test.secrets)
    ctx.console.info(f"running {shlex.join(test.command)}")
    try:
        run(test.command, cwd=ctx.target.root, env=env, on_line=lambda line: ctx.console.detail(f"  {line}"))
    except CommandFailed as exc:
        raise ShipitError(
            f"tests failed (exit {exc.returncode}); nothing was released\n{exc.output[-3000:]}",
            hint=f"run `{shlex.join(test.command)}` locally",
        ) from None
    return TestResult(ran=True)


def _secret_env(ctx: StepContext, keys: tuple[str, ...]) -> dict[str, str]:
    """Test secrets: from the environment (CI injects them from Secret Manager), else the env file."""
    missing = [k for k in keys if k not in os.environ]
    if not missing:
        return {}
    from shipit.envfile import read_env_file

    env_file = read_env_file(ctx.target.env_file)
    return {k: env_file.values[k] for k in missing if k in env_file.values}
