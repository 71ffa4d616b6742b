"""Real test engines (Docker, an OCI registry, Terraform, PostgreSQL, the Pub/Sub emulator).

Each module starts its engine on demand and stops it at the end; ``engines.session`` caches one
instance of each per process and applies the skip/fail policy of ``engines.requirements``.
They work outside pytest too, e.g. for a benchmark script::

    from engines import docker, registry
    eng = docker.ensure_engine()          # DockerEngine(host=..., base_image=...)
    reg = registry.start_registry()       # RegistryServer(host=..., user=..., token=...)
    ...
    reg.stop(); eng.stop()
"""

from __future__ import annotations
