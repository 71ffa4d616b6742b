"""One environment, resolved: the merged config plus the names every step derives from it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from shipit import names
from shipit.config.loader import LoadedConfig
from shipit.config.models import Environment, Service, ShipitConfig
from shipit.errors import UsageError


@dataclass(frozen=True)
class Target:
    config: ShipitConfig
    env_name: str
    environment: Environment
    root: Path
    config_file: str
    # A multi-region environment's view of one region was cut from this target: state files stay its.
    origin: Target | None = field(default=None, compare=False, repr=False)

    @property
    def app(self) -> str:
        return self.config.app

    @property
    def project(self) -> str:
        return self.environment.project

    @property
    def region(self) -> str:
        return self.environment.region

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region some service of the environment runs in; the primary (``region``) first."""
        from shipit.config.multiregion import service_regions

        seen = [self.region]
        for svc in self.config.services.values():
            seen.extend(r for r in service_regions(self.environment, svc) if r not in seen)
        return tuple(seen)

    def service_regions(self, service: str) -> tuple[str, ...]:
        """Where one service runs (workers: the primary region only)."""
        from shipit.config.multiregion import service_regions

        svc = self.config.services[service]
        return (self.region,) if svc.kind != "service" else service_regions(self.environment, svc)

    @property
    def production(self) -> bool:
        return self.environment.is_production(self.env_name)

    @property
    def protected(self) -> bool:
        """`shipit destroy` refuses it without --allow-protected."""
        return self.environment.is_protected(self.env_name)

    @property
    def services(self) -> dict[str, Service]:
        return dict(self.config.services)

    def path(self, relative: str) -> Path:
        return (self.root / relative).resolve()

    @property
    def env_file(self) -> Path:
        return self.path(self.environment.secrets.env_file or self.config.secrets.env_file)

    def secret_id(self, key: str) -> str:
        return names.secret_id(self.config.secrets.naming, self.app, self.env_name, key)

    @property
    def registry_location(self) -> str:
        return self.config.registry.location or self.region

    @property
    def repository(self) -> str:
        return self.config.registry.repository or self.app

    @property
    def registry_host(self) -> str:
        override = os.environ.get("SHIPIT_REGISTRY_HOST")
        if override:
            from shipit import values

            return values.checked("SHIPIT_REGISTRY_HOST", values.registry_host, override)
        return self.config.registry.host or f"{self.registry_location}-docker.pkg.dev"

    def image_repo(self, service: str) -> str:
        """REGION-docker.pkg.dev/PROJECT/REPOSITORY/SERVICE, the image name without tag or digest."""
        return names.image_repo(self.registry_host, self.project, self.repository, service)

    @property
    def infra_dir(self) -> Path:
        return self.path(self.config.infra.dir)

    @property
    def state_bucket(self) -> str:
        return self.config.infra.bucket or names.state_bucket(self.project)


def resolve_target(loaded: LoadedConfig, env_name: str | None) -> Target:
    names = loaded.environment_names()
    name = env_name or loaded.default_environment()
    if name is None:
        raise UsageError(
            f"{loaded.display} defines several environments ({', '.join(names)})",
            hint="pick one with -e/--env or set default_environment",
        )
    if name not in loaded.merged:
        from shipit.config.checks import did_you_mean

        hint = did_you_mean(name, names) or f"defined: {', '.join(names)}"
        raise UsageError(f"environment '{name}' is not defined in {loaded.display}", hint=hint)
    return Target(
        config=loaded.merged[name],
        env_name=name,
        environment=loaded.base.environments[name],
        root=loaded.root,
        config_file=loaded.display,
    )
