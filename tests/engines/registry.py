"""A real OCI registry (Debian's docker-registry, CNCF distribution 2.8) on 127.0.0.1.

It authenticates with htpasswd (bcrypt) as user ``oauth2accesstoken`` with a test token as the
password: exactly how Artifact Registry accepts OAuth access tokens. Docker treats 127.0.0.0/8 as
an insecure registry, so pushes go over plain HTTP without any daemon configuration.
"""

from __future__ import annotations

import atexit
import base64
import secrets
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from engines._proc import Daemon, free_port, retire, run, session_workdir, wait_until
from engines.requirements import EngineUnavailable

USER = "oauth2accesstoken"


@dataclass
class RegistryServer:
    """A running registry. ``host`` is ``127.0.0.1:PORT`` (an image reference prefix)."""

    host: str
    user: str
    token: str
    workdir: Path
    daemon: Daemon | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def request(self, path: str, *, token: str | None = None, method: str = "GET") -> tuple[int, bytes]:
        """An authenticated request to the registry API (e.g. ``/v2/_catalog``)."""
        req = urllib.request.Request(self.url + path, method=method)
        cred = base64.b64encode(f"{self.user}:{self.token if token is None else token}".encode()).decode()
        req.add_header("Authorization", f"Basic {cred}")
        req.add_header("Accept", "application/vnd.docker.distribution.manifest.v2+json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as err:
            return int(err.code), err.read()

    def stop(self) -> None:
        retire(self.daemon, self.workdir, self.stop)
        self.daemon = None


def find_registry() -> str:
    for candidate in ("/usr/bin/docker-registry", shutil.which("docker-registry"), shutil.which("registry")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise EngineUnavailable("docker-registry is not installed (apt-get install docker-registry)")


def htpasswd_line(user: str, password: str) -> str:
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        raise EngineUnavailable("htpasswd is not installed (apt-get install apache2-utils)")
    # -i: the password comes on stdin, never in argv.
    proc = run([htpasswd, "-niB", user], input=password + "\n")
    if proc.returncode != 0:
        raise EngineUnavailable(f"htpasswd failed: {proc.stderr.strip()}")
    return proc.stdout.strip() + "\n"


def start_registry(*, token: str | None = None, timeout: float = 30) -> RegistryServer:
    """Start a registry on a free port; call ``stop()`` on the result (also registered with atexit)."""
    binary = find_registry()
    token = token or "ya29.test-" + secrets.token_urlsafe(24)
    workdir = session_workdir("shipit-test-registry-")
    try:
        (workdir / "htpasswd").write_text(htpasswd_line(USER, token))
        (workdir / "data").mkdir()
        port = free_port()
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n  secret: {secrets.token_hex(16)}\n"
            f"auth:\n  htpasswd:\n    realm: shipit-test-registry\n    path: {workdir / 'htpasswd'}\n"
        )
        daemon = Daemon([binary, "serve", str(config)], log=workdir / "registry.log", workdir=workdir)
        server = RegistryServer(host=f"127.0.0.1:{port}", user=USER, token=token, workdir=workdir, daemon=daemon)
        atexit.register(server.stop)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def ready() -> bool:
        try:
            return server.request("/v2/")[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, timeout=timeout, what="docker-registry", alive=daemon.alive, log=daemon.log)
    except BaseException:
        server.stop()
        raise
    return server
