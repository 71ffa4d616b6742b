"""`shipit local`: the whole stack on a laptop from the same shipit.yaml, with compose or native processes.

env.py      the environment each service sees locally (and the names the cloud would give it)
ports.py    published ports, and who holds a port that is in use
compose.py  the docker compose runtime (render, up, wait, down, ps, logs, exec)
native.py   the native runtime: Postgres (MariaDB for engine: mysql), the Pub/Sub emulator, each service supervised
"""

from __future__ import annotations
