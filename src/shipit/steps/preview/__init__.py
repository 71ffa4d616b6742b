"""Step "preview" (`shipit deploy --preview NAME`): a pull request's changed services as tagged revisions with
no traffic in a base environment; and `shipit preview list|delete`.

The package is the step. Its modules, by role:

- ``step``       plan() and apply(): the step as the pipeline runs it (it says how it stays safe)
- ``names``      the preview name (a Cloud Run traffic tag), the labels its revisions carry
- ``inventory``  the previews that exist, read from the services' traffic tags (the source of truth)
- ``removal``    removing previews: their tags, then the revisions only they used
- ``writes``     writing a service's template or traffic with its own settings left as they are
- ``database``   ``preview.database: branch``: the preview's own database, DATABASE_URL secret and migration
- ``outputs``    the URLs written for CI (``.shipit/previews/NAME.json``, ``$GITHUB_OUTPUT``)

Others (the CLI, `shipit deploy --preview`) use only the names exported here.
"""

from __future__ import annotations

from shipit.steps.preview.inventory import Preview, app_services, previews, read_services
from shipit.steps.preview.names import check_name
from shipit.steps.preview.removal import choose
from shipit.steps.preview.step import STEP, PreviewResult, apply, plan

__all__ = [
    "STEP",
    "Preview",
    "PreviewResult",
    "app_services",
    "apply",
    "check_name",
    "choose",
    "plan",
    "previews",
    "read_services",
]
