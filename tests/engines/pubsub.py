"""The Pub/Sub emulator of the Google Cloud CLI (``gcloud beta emulators pubsub start``)."""

from __future__ import annotations

import atexit
import os
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from engines._proc import Daemon, free_port, retire, session_workdir, wait_until
from engines.requirements import EngineUnavailable


@dataclass
class PubSubEmulator:
    host: str  # "127.0.0.1:PORT", the value for PUBSUB_EMULATOR_HOST
    workdir: Path
    daemon: Daemon | None = field(default=None, repr=False)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PUBSUB_EMULATOR_HOST": self.host}

    def stop(self) -> None:
        retire(self.daemon, self.workdir, self.stop)
        self.daemon = None


def find_gcloud() -> str:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise EngineUnavailable("the gcloud CLI is not installed")
    sdk = Path(os.path.realpath(gcloud)).parent.parent
    if not (sdk / "platform" / "pubsub-emulator").is_dir():
        raise EngineUnavailable(f"the Pub/Sub emulator is not installed in {sdk}")
    return gcloud


def start_pubsub_emulator(*, timeout: float = 90) -> PubSubEmulator:
    """Start the emulator on a free port; call ``stop()`` on the result (also registered with atexit)."""
    gcloud = find_gcloud()
    workdir = session_workdir("shipit-test-pubsub-")
    (workdir / "data").mkdir()
    (workdir / "config").mkdir()
    port = free_port()
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(workdir / "config"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
    }
    daemon = Daemon(
        [
            gcloud,
            "beta",
            "emulators",
            "pubsub",
            "start",
            f"--host-port=127.0.0.1:{port}",
            f"--data-dir={workdir / 'data'}",
            "--quiet",
        ],
        log=workdir / "pubsub.log",
        env=env,
        workdir=workdir,
    )
    emulator = PubSubEmulator(host=f"127.0.0.1:{port}", workdir=workdir, daemon=daemon)
    atexit.register(emulator.stop)

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://{emulator.host}/", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    try:
        wait_until(ready, timeout=timeout, what="pubsub emulator", interval=0.25, alive=daemon.alive, log=daemon.log)
    except BaseException:
        emulator.stop()
        raise
    return emulator
