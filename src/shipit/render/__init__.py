"""Pure generators: compose file, Terraform module, cloudbuild.yaml, Dockerfiles. No I/O beyond returning text."""

from __future__ import annotations
