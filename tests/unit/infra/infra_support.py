"""Helpers shared by the infra tests: configurations to generate from, and the generated module parsed."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from shipit.config import Target, load_config, resolve_target
from shipit.render.terraform import render_infra

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "shipit.yaml.example"
_PARSE = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

HEAD = """\
version: 1
app: shop
environments:
  staging: {project: shop-staging, region: us-central1}
  prod: {project: shop-prod-1, region: europe-west1}
default_environment: staging
"""

# name -> shipit.yaml body (after HEAD)
CONFIGS: dict[str, str] = {
    "no-database": """\
services:
  web: {port: 8080, secrets: [SESSION_KEY]}
""",
    "one-database": """\
databases:
  main: {version: "15", tier: db-g1-small}
services:
  api: {secrets: [STRIPE_KEY, MAIL_KEY], databases: [main]}
  web: {secrets: [MAIL_KEY]}
""",
    "two-databases": """\
databases:
  main: {}
  analytics: {env_var: ANALYTICS_URL, deletion_protection: false, backups: false}
services:
  api: {secrets: [STRIPE_KEY], databases: [main, analytics]}
  reports: {databases: [analytics], secret_files: {/secrets/key.json: GCP_KEY}}
  web: {}
secrets: {extra: [UNUSED_KEY]}
""",
    "pubsub": """\
databases:
  main: {}
services:
  api: {databases: [main]}
  worker: {databases: [main], secrets: [STRIPE_KEY]}
pubsub:
  topics: {jobs: {}, events: {}}
  subscriptions:
    jobs-worker: {topic: jobs, push: {service: worker, path: /push}}
    events-pull: {topic: events}
""",
    "direct-vpc": """\
databases:
  main: {}
services:
  api:
    databases: [main]
    cloud_run: {vpc: {mode: direct}}
""",
    "cache": """\
caches:
  sessions: {tier: STANDARD_HA, memory_gb: 2}
  jobs: {env_var: QUEUE_URL, ca_env_var: QUEUE_CA_CERT}
services:
  api: {caches: [sessions, jobs], secrets: [API_KEY]}
  worker: {kind: worker, caches: [jobs]}
  web: {}
jobs:
  sweep: {service: web, caches: [jobs]}
""",
    "remote-builds": """\
build: {engine: cloudbuild, cloudbuild: {service_account: builder@shop-prod-1.iam.gserviceaccount.com}}
secrets: {extra: [NPM_TOKEN]}
services:
  api: {build: {secrets: [NPM_TOKEN]}, secrets: [STRIPE_KEY]}
  web: {build: {engine: local}}
""",
    "mysql-and-postgres": """\
databases:
  shop: {engine: mysql, tier: db-g1-small, availability: regional}
  legacy: {engine: mysql, version: "8.0", point_in_time_recovery: false, env_var: LEGACY_URL}
  main: {env_var: PG_URL}
services:
  api: {databases: [shop, main]}
  worker: {databases: [legacy]}
""",
    "local-backend": """\
infra: {backend: local}
services:
  web: {cloud_run: {service_account: custom-runner@shop-prod-1.iam.gserviceaccount.com}, secrets: [A_KEY]}
""",
}


def write_config(directory: Path, body: str) -> Path:
    path = directory / "shipit.yaml"
    path.write_text(HEAD + textwrap.dedent(body))
    return path


def targets_of(path: Path) -> list[Target]:
    loaded = load_config(path)
    return [resolve_target(loaded, name) for name in loaded.environment_names()]


def example_targets(tmp_path: Path) -> list[Target]:
    copy = tmp_path / "shipit.yaml"
    copy.write_text(EXAMPLE.read_text())
    return targets_of(copy)


def parse(text: str) -> dict[str, Any]:
    return hcl2.loads(text, serialization_options=_PARSE)


@dataclass
class Generated:
    """The files of one generation, parsed."""

    files: dict[str, str]
    targets: list[Target]

    def tf(self, name: str) -> dict[str, Any]:
        return parse(self.files[name])

    def module_tf(self) -> list[dict[str, Any]]:
        return [parse(text) for name, text in self.files.items() if name.endswith(".tf") and "/" not in name]

    def resources(self, kind: str = "resource") -> list[tuple[str, str, dict[str, Any]]]:
        """(type, name, body) of every resource (or ``kind`` block: "ephemeral", "data") in the module."""
        out = []
        for doc in self.module_tf():
            for entry in doc.get(kind, []):
                for rtype, named in entry.items():
                    for rname, body in named.items():
                        out.append((rtype, rname, body))
        return out

    def resource(self, rtype: str, rname: str) -> dict[str, Any]:
        for t, n, body in self.resources():
            if (t, n) == (rtype, rname):
                return body
        raise KeyError(f"{rtype}.{rname}")

    def inputs(self, env: str) -> dict[str, Any]:
        """The arguments of `module "app"` in the environment's root."""
        doc = self.tf(f"environments/{env}/main.tf")
        (module,) = doc["module"]
        return dict(module["app"])


def generate(targets: list[Target]) -> Generated:
    return Generated(render_infra(targets), targets)


def write_tree(directory: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
