"""MariaDB server binaries for the native runtime's `engine: mysql` tests (apt-get install mariadb-server).

Nothing is started here: shipit's own native runtime starts and stops the server under test. This only
checks the binaries it needs are present, so a machine without them skips (or, in CI, fails) clearly.
"""

from __future__ import annotations

from engines.requirements import EngineUnavailable
from shipit.local.mariadb import CLIENTS, INSTALLERS, SERVERS, find_binary


def find_mariadb() -> list[str]:
    """[server, installer, client] paths."""
    try:
        return [find_binary(SERVERS, "server"), find_binary(INSTALLERS, "installer"), find_binary(CLIENTS, "client")]
    except Exception as err:  # shipit's ToolError: the message names what is missing
        raise EngineUnavailable(f"{err} (apt-get install mariadb-server)") from err
