"""The compose file of an `engine: mysql` database, validated by docker-compose itself (`config -q`)."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from shipit.config import load_config, resolve_target
from shipit.local.compose import prepare, write

pytestmark = [pytest.mark.docker, pytest.mark.compose]


def test_mysql_compose_file_validates_with_docker_compose_config(compose_cmd: list[str], tmp_path: Path) -> None:
    (tmp_path / "shipit.yaml").write_text(
        textwrap.dedent(
            """
            version: 1
            app: shop
            environments: {dev: {project: shop-dev-1, region: us-central1}}
            databases:
              shop: {engine: mysql}
              main: {env_var: PG_URL}
            services:
              api: {image: busybox, databases: [shop, main]}
            """
        )
    )
    (tmp_path / ".env").write_text("")
    path = write(prepare(resolve_target(load_config(tmp_path / "shipit.yaml"), None)))
    result = subprocess.run([*compose_cmd, "-f", str(path), "config"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "mysql:8.4" in result.stdout and "mysqladmin" in result.stdout
