from __future__ import annotations

from pathlib import Path

import pytest
from config_support import Errors, Load, write

from shipit.config import LoadedConfig, load_config
from shipit.errors import ConfigError


@pytest.fixture
def load(tmp_path: Path) -> Load:
    """Load a document written to shipit.yaml (messages name it `shipit.yaml`)."""

    def run(text: str | bytes) -> LoadedConfig:
        return load_config(write(tmp_path, text), "shipit.yaml")

    return run


@pytest.fixture
def errors(tmp_path: Path) -> Errors:
    """Every rendered issue of an invalid document, in file order."""

    def run(text: str | bytes) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, text), "shipit.yaml")
        return [issue.render() for issue in caught.value.issues]

    return run
