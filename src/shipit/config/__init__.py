"""shipit.yaml: typed models, loading with line marks, environment overlays, JSON Schema."""

from __future__ import annotations

from shipit.config.loader import LoadedConfig, find_config, load_config
from shipit.config.models import ShipitConfig
from shipit.config.target import Target, resolve_target

__all__ = ["LoadedConfig", "ShipitConfig", "Target", "find_config", "load_config", "resolve_target"]
