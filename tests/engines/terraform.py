"""The real terraform binary, with a CLI configuration that cannot reach for anything."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engines._proc import run
from engines.requirements import EngineUnavailable

MIN_VERSION = (1, 11)


@dataclass(frozen=True)
class Terraform:
    path: str
    version: str
    cli_config: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, **env_overrides(self.cli_config)}


def env_overrides(cli_config: Path) -> dict[str, str]:
    return {
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }


def find_terraform() -> Terraform:
    """Locate terraform (>= 1.11) and write an empty CLI config (no credentials, no mirrors)."""
    path = os.environ.get("SHIPIT_TEST_TERRAFORM") or shutil.which("terraform")
    if not path and os.access("/usr/local/bin/terraform", os.X_OK):
        path = "/usr/local/bin/terraform"
    if not path:
        raise EngineUnavailable("terraform is not on PATH")
    if not os.access(path, os.X_OK):
        raise EngineUnavailable(f"{path} is not an executable terraform")
    cli_config = Path(tempfile.gettempdir()) / "shipit-test-terraformrc"
    if not cli_config.exists():
        cli_config.write_text("# shipit tests: empty terraform CLI configuration\n")
    proc = run([path, "version", "-json"], env={**os.environ, **env_overrides(cli_config)}, timeout=60)
    if proc.returncode != 0:
        raise EngineUnavailable(f"`terraform version` failed: {proc.stderr.strip()}")
    try:
        version = str(json.loads(proc.stdout)["terraform_version"])
        parts = tuple(int(p) for p in version.split("-")[0].split(".")[:2])
    except (ValueError, KeyError) as err:
        raise EngineUnavailable(f"cannot read terraform version from {proc.stdout!r}") from err
    if parts < MIN_VERSION:
        raise EngineUnavailable(f"terraform {version} is older than {'.'.join(map(str, MIN_VERSION))}")
    export_env(cli_config)
    return Terraform(path=path, version=version, cli_config=cli_config)


def export_env(cli_config: Path) -> None:
    """Point this process at the harmless CLI config unless a real, existing one is configured."""
    current = os.environ.get("TF_CLI_CONFIG_FILE")
    if not current or not Path(current).is_file():
        os.environ["TF_CLI_CONFIG_FILE"] = str(cli_config)
    os.environ.setdefault("CHECKPOINT_DISABLE", "1")
