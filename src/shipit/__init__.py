"""shipit: from docker-compose on a laptop to production on Google Cloud, from one shipit.yaml."""

from __future__ import annotations

__version__ = "0.1.0"
