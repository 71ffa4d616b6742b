"""What every step receives: the resolved target, the console, run options, earlier steps' results and the
remote boundary (every client that reaches outside the process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipit.concurrency import API_CONCURRENCY, BUILD_JOBS
from shipit.remote import Remote
from shipit.steps.release import new_release_id

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.output import Console


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    # Plan as if nothing existed in the cloud yet, with no remote call at all (`shipit plan --offline`).
    offline: bool = False
    yes: bool = False
    concurrency: int = API_CONCURRENCY
    jobs: int = BUILD_JOBS
    # `--engine local|cloudbuild`: overrides build.engine and every services.X.build.engine.
    build_engine: str | None = None
    # Explicit inputs that normally come from earlier steps: {"api": "REGION-docker.pkg.dev/...@sha256:..."}
    images: tuple[tuple[str, str], ...] = ()
    # Rollout of the services step: new revisions get no traffic until their tagged URL is healthy;
    # with canary, only that percent until `shipit promote`.
    staged: bool = False
    canary: int | None = None
    # `deploy --preview NAME`: the services step becomes the preview step (tagged revisions, no traffic);
    # prune_oldest: remove that many of the oldest other previews first.
    preview: str | None = None
    prune_oldest: int = 0
    # Cloud Run Admin API writes per minute in the target's region (`--write-rate`); None: the environment's
    # deploy.write_rate_per_minute.
    write_rate: int | None = None


@dataclass
class StepContext:
    target: Target
    console: Console
    options: RunOptions = field(default_factory=RunOptions)
    # Typed results (shipit.results) of the steps run or planned in this process, by step name. Only the
    # pipeline writes it; steps read earlier results through shipit.steps.resolver.earlier().
    results: dict[str, Any] = field(default_factory=dict)
    # Cloud Run, Secret Manager, Artifact Registry, Storage, the registry, docker, terraform: built on first
    # use; tests pass Remote(run=..., jobs=...) with fakes.
    remote: Remote = field(default_factory=Remote)
    # Where the resolver found each input of the step being planned: step name -> source (plan notes).
    sources: dict[str, str] = field(default_factory=dict)
    # The release every step of this run labels its revisions with (services, workers): one `shipit deploy`
    # is one release, so `shipit rollback` finds everything it deployed under one id.
    release_id: str = field(default_factory=new_release_id)

    def __post_init__(self) -> None:
        from shipit.pacing import set_rate

        self.remote = self.remote.for_target(self.target)
        rate = self.options.write_rate or self.target.environment.deploy.write_rate_per_minute
        set_rate(self.target.project, self.target.region, rate)
