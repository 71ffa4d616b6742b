"""Every name and label shipit gives a cloud resource, in one place.

Labels follow one schema everywhere shipit writes them: ``managed-by=shipit`` marks what shipit owns,
``app`` and ``env`` say whose it is (Terraform-made resources, secrets, the state bucket, the image
repository, and Cloud Run services, worker pools and jobs, which `shipit destroy` selects by them); Cloud Run
resources also carry the ``shipit-*`` labels of a release (which release and commit a revision runs, which
migration a job ran). Names are derived from the app and
environment (``{app}-{env}`` prefix), cut to each API's length limit with a stable hash when too long.

Resources are found by name, never by ``app``/``env`` labels, so the image repository and state bucket that
older versions labelled ``shipit-app`` / ``environment`` are still found; secrets are listed by
``managed-by``/``app``/``env``, which they always carried, and rollback finds releases by
``shipit-release``, unchanged.

No I/O and no imports of other shipit packages: config, render, steps and adapters all use it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Protocol

# -- labels --------------------------------------------------------------------------------------------

MANAGED_BY = "managed-by"
MANAGER = "shipit"
APP_LABEL = "app"
ENV_LABEL = "env"
# Cloud Run revisions: the release (rollback finds "the last release" by it) and the commit deployed.
RELEASE_LABEL = "shipit-release"
GIT_SHA_LABEL = "shipit-git-sha"
# On a preview's revision (`shipit deploy --preview NAME`): NAME. Such a revision never takes traffic.
PREVIEW_LABEL = "shipit-preview"
# Cloud Run migration jobs and their executions: which database, and the hash of what ran.
DATABASE_LABEL = "shipit-database"
MIGRATE_HASH_LABEL = "shipit-migrate-hash"


def owner_labels(app: str, env: str) -> dict[str, str]:
    """The labels of a resource shipit owns: ``app``, ``env``, ``managed-by=shipit`` (in the order the
    generated Terraform has always written them)."""
    return {APP_LABEL: app, ENV_LABEL: env, MANAGED_BY: MANAGER}


def is_managed(labels: Mapping[str, str]) -> bool:
    return labels.get(MANAGED_BY) == MANAGER


# -- names ---------------------------------------------------------------------------------------------


class Scope(Protocol):
    """Whose resources: an app in one environment of one project (:class:`shipit.config.Target`)."""

    @property
    def app(self) -> str: ...
    @property
    def env_name(self) -> str: ...
    @property
    def project(self) -> str: ...


def fit(name: str, limit: int, *, minimum: int = 1) -> str:
    """``name`` if it fits in ``limit`` characters, else a prefix plus a short hash (stable, unique)."""
    name = name.ljust(minimum, "0")
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:4]
    return f"{name[: limit - 5].rstrip('-')}-{digest}"


def name_prefix(scope: Scope) -> str:
    return f"{scope.app}-{scope.env_name}"


def account_id(scope: Scope, suffix: str) -> str:
    """A service account id: 6 to 30 characters, [a-z0-9-], starting with a letter. ``suffix``: a service
    name, or ``push`` for the Pub/Sub push identity."""
    return fit(f"{name_prefix(scope)}-{suffix}", 30, minimum=6)


def account_email(scope: Scope, suffix: str) -> str:
    return f"{account_id(scope, suffix)}@{scope.project}.iam.gserviceaccount.com"


PUSH_ACCOUNT = "push"
# The deployer account the generated CI pipelines impersonate (a placeholder project until set).
DEPLOYER_ACCOUNT = "shipit-deployer"


def deployer_email(project: str = "PROJECT_ID") -> str:
    return f"{DEPLOYER_ACCOUNT}@{project}.iam.gserviceaccount.com"


def connector_name(scope: Scope) -> str:
    """Serverless VPC Access connector names have at most 25 characters."""
    return fit(f"{name_prefix(scope)}-run", 25)


def secret_id(naming: str, app: str, env: str, key: str) -> str:
    """A Secret Manager secret id from ``secrets.naming`` (default ``{app}-{env}-{key}``)."""
    return naming.format(app=app, env=env, key=key)


def database_url_secret_key(database: str) -> str:
    """The secret key (passed through secrets.naming) of the secret that holds a database's URL."""
    return f"DATABASE_URL_{database.upper().replace('-', '_')}"


# Cloud Run resource ids: lowercase letter first, [a-z0-9-], at most 49 characters, no trailing hyphen.
JOB_ID_MAX = 49


def job_id(app: str, database: str) -> str:
    """``{app}-migrate-{database}``, made a valid Cloud Run id; too long: cut, plus a short hash for uniqueness."""
    raw = f"{app}-migrate-{database}"
    slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", raw.lower())).strip("-")
    if not slug[:1].isalpha():
        slug = "m-" + slug
    if len(slug) <= JOB_ID_MAX:
        return slug
    suffix = hashlib.sha256(raw.encode()).hexdigest()[:6]
    return f"{slug[: JOB_ID_MAX - len(suffix) - 1].rstrip('-')}-{suffix}"


def location_parent(project: str, region: str) -> str:
    """The parent of a project's Cloud Run services and jobs in one region."""
    return f"projects/{project}/locations/{region}"


def secret_name(project: str, secret_id: str) -> str:
    return f"projects/{project}/secrets/{secret_id}"


def secret_version_name(project: str, secret_id: str, version: int | str) -> str:
    """Named by project id (not number) so plans and Cloud Run references read the same everywhere."""
    return f"{secret_name(project, secret_id)}/versions/{version}"


def repository_name(project: str, location: str, repository: str) -> str:
    """The Artifact Registry resource name of an image repository."""
    return f"projects/{project}/locations/{location}/repositories/{repository}"


def image_repo(host: str, project: str, repository: str, service: str) -> str:
    """HOST/PROJECT/REPOSITORY/SERVICE, an image name without tag or digest."""
    return f"{host}/{project}/{repository}/{service}"


def state_bucket(project: str) -> str:
    """The default Terraform state bucket of a project (``infra.bucket`` overrides it)."""
    return f"{project}-shipit-tfstate"


# The account remote builds run as, and the bucket their sources and logs go to (build.cloudbuild overrides).
BUILD_ACCOUNT_ID = "shipit-build"


def build_bucket(project: str) -> str:
    return f"{project}-shipit-builds"


def build_service_account(project: str) -> str:
    return f"{BUILD_ACCOUNT_ID}@{project}.iam.gserviceaccount.com"


def topic_path(project: str, topic: str) -> str:
    """Pub/Sub topics and subscriptions are named as in shipit.yaml (``pubsub`` keys)."""
    return f"projects/{project}/topics/{topic}"
