from __future__ import annotations

from pathlib import Path

import pytest
from infra_support import CONFIGS, Generated, example_targets, generate, targets_of, write_config


@pytest.fixture(params=["example", *CONFIGS])
def generated(request: pytest.FixtureRequest, tmp_path: Path) -> Generated:
    """The Terraform generated for shipit.yaml.example and each configuration in CONFIGS."""
    if request.param == "example":
        return generate(example_targets(tmp_path))
    return generate(targets_of(write_config(tmp_path, CONFIGS[request.param])))
