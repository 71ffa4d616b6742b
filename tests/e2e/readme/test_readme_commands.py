"""The README's two fresh-machine commands stay true: the main job runs offline, and CI runs the test command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text()


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(b.strip() for b in _bash_blocks() if "pytest" in b)
    ci = (ROOT / ".ci/run").read_text()
    assert "bash .ci/install.sh" in test_command and "bash .ci/install.sh" in ci
    pytest_part = test_command.split("&&")[-1].strip()
    assert pytest_part.startswith("SHIPIT_TEST_REQUIRE_ALL=1 python -m pytest")
    assert "export SHIPIT_TEST_REQUIRE_ALL=1" in ci
    assert pytest_part.removeprefix("SHIPIT_TEST_REQUIRE_ALL=1 ") in ci


def test_main_job_plans_the_example_offline_without_any_account(tmp_path: Path) -> None:
    main_job = next(b.strip() for b in _bash_blocks() if "plan --offline" in b)
    shipit_part = main_job.split("&&")[-1].strip().split()
    args = shipit_part[shipit_part.index("shipit") + 1 :]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))}
    # Any Google call would fail loudly: no credentials, endpoints on a closed port, no ADC file.
    env.update(
        {
            "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json"),
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN": "http://127.0.0.1:9",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER": "http://127.0.0.1:9",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY": "http://127.0.0.1:9",
            "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock",
            "NO_COLOR": "1",
        }
    )
    # The job copies the example's .env.example to .env first; do that in a copy, not in the repository.
    assert "cp -n examples/fullstack/.env.example examples/fullstack/.env" in main_job
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "examples", work / "examples")
    shutil.copyfile(work / "examples/fullstack/.env.example", work / "examples/fullstack/.env")
    result = subprocess.run(
        [sys.executable, "-m", "shipit", *args, "--json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout.splitlines()[-1])
    steps = {s["step"]: s for s in data["steps"]}
    assert data["offline"] is True and data["has_changes"] is True
    assert steps["build"]["counts"]["create"] == 3
    assert steps["infra"]["counts"]["create"] > 10
    assert steps["services"]["counts"]["create"] == 2
    assert steps["workers"]["counts"]["create"] == 1  # the worker is a worker pool
    assert steps["jobs"]["counts"]["create"] == 1  # the nightly cleanup job
    assert steps["migrate"]["counts"]["create"] == 1
