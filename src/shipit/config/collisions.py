"""Two environments in one Google Cloud project must not claim the same resource names.

Most of what shipit and its Terraform create carries the `{app}-{env}` prefix, but three kinds of name
do not, and two environments sharing a project would then fight over them (each Terraform state
believes it owns the resource, and whichever applies second fails or takes it over):
- Cloud Run services and jobs are named after shipit.yaml's services, per region;
- Pub/Sub topics and subscriptions have project-wide names, as written in shipit.yaml;
- the Artifact Registry repository is named by `registry.repository`, per location.
Renaming them per environment would rename (so replace) what existing deployments run, so the
conflict is reported instead, with the way out.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from shipit.config.checks import Problem
from shipit.config.models import Environment, ShipitConfig


def _registry(config: ShipitConfig, env: Environment) -> tuple[str, str]:
    repository = env.registry.get("repository") or config.registry.repository or config.app
    location = env.registry.get("location") or config.registry.location or env.region
    return str(repository), str(location)


def shared_project_problems(config: ShipitConfig) -> Iterator[Problem]:
    for (first, a), (second, b) in combinations(config.environments.items(), 2):
        if a.project != b.project:
            continue
        path = ("environments", second, "project")
        together = f"environments {first} and {second} share project {a.project}"
        shared = [r for r in (a.regions or (a.region,)) if r in (b.regions or (b.region,))]
        if shared and (config.services or getattr(config, "jobs", None)):
            yield Problem(
                path,
                f"{together} and region {shared[0]}: their Cloud Run services would overwrite each other",
                "give each environment its own project (recommended) or another region",
            )
            continue
        if config.pubsub and (config.pubsub.topics or config.pubsub.subscriptions):
            yield Problem(
                path,
                f"{together}: Pub/Sub topic and subscription names are project-wide, so both would manage "
                f"{', '.join(sorted({*config.pubsub.topics, *config.pubsub.subscriptions}))}",
                "give each environment its own project",
            )
        repo_a, repo_b = _registry(config, a), _registry(config, b)
        if repo_a == repo_b:
            yield Problem(
                path,
                f"{together}: both would manage the image repository {repo_b[0]} in {repo_b[1]}",
                f"set environments.{second}.registry.repository to another name, or use one project each",
            )
