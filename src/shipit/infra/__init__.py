"""`shipit infra`: generate the Terraform, run it, cache its outputs for the deploy step.

For other steps: :func:`shipit.infra.outputs.load_outputs` (the cached, non-sensitive outputs of an
environment) and :func:`shipit.render.terraform.database_url_secret_key`.
"""

from __future__ import annotations
