"""The Pub/Sub emulator for `shipit local`: started through gcloud (native runtime), and topics and
subscriptions created through its REST API (both runtimes).

Push subscriptions are delivered by the emulator itself: it POSTs the same envelope as Pub/Sub
({"message": {...}, "subscription": ...}) to the push endpoint, so a local service URL is enough and no
relay is needed. The emulator does not sign OIDC tokens: local push requests carry no Authorization.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit.config.models import PubSub
from shipit.errors import ShipitError, ToolError
from shipit.names import topic_path

GCLOUD_HINT = "install the Google Cloud CLI and `gcloud components install beta pubsub-emulator`"


@dataclass(frozen=True)
class PubSubSetup:
    topics: tuple[str, ...]
    subscriptions: tuple[str, ...]


def _request(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    import requests

    response = requests.request(method, url, json=body or {}, timeout=30)
    return response.status_code, response.text


def push_endpoints(pubsub: PubSub, service_urls: Mapping[str, str]) -> dict[str, str]:
    """Subscription -> the URL the emulator delivers to (the service as the emulator reaches it)."""
    return {
        name: service_urls[sub.push.service].rstrip("/") + sub.push.path
        for name, sub in pubsub.subscriptions.items()
        if sub.push is not None
    }


def ensure_resources(host: str, project: str, pubsub: PubSub, service_urls: Mapping[str, str]) -> PubSubSetup:
    """Create every topic and subscription (idempotent: existing ones get the current push config)."""
    base = f"http://{host}/v1/projects/{project}"
    endpoints = push_endpoints(pubsub, service_urls)
    for topic in pubsub.topics:
        status, text = _request("PUT", f"{base}/topics/{topic}")
        if status not in (200, 409):
            raise ShipitError(f"the Pub/Sub emulator refused topic '{topic}' (HTTP {status}): {text.strip()[:200]}")
    for name, sub in pubsub.subscriptions.items():
        push = {"pushEndpoint": endpoints[name]} if name in endpoints else {}
        body: dict[str, Any] = {
            "topic": topic_path(project, sub.topic),
            "ackDeadlineSeconds": sub.ack_deadline,
        }
        if push:
            body["pushConfig"] = push
        status, text = _request("PUT", f"{base}/subscriptions/{name}", body)
        if status == 409:
            status, text = _request("POST", f"{base}/subscriptions/{name}:modifyPushConfig", {"pushConfig": push})
        if status != 200:
            raise ShipitError(
                f"the Pub/Sub emulator refused subscription '{name}' (HTTP {status}): {text.strip()[:200]}"
            )
    return PubSubSetup(tuple(pubsub.topics), tuple(pubsub.subscriptions))


def emulator_ready(host: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def gcloud_argv(host: str, data_dir: Path, project: str) -> list[str]:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise ToolError("the Pub/Sub emulator needs the gcloud CLI, which is not on PATH", hint=GCLOUD_HINT)
    sdk = Path(os.path.realpath(gcloud)).parent.parent
    if (sdk / "platform").is_dir() and not (sdk / "platform" / "pubsub-emulator").is_dir():
        raise ToolError(f"the Pub/Sub emulator is not installed in {sdk}", hint=GCLOUD_HINT)
    return [
        gcloud,
        "beta",
        "emulators",
        "pubsub",
        "start",
        f"--host-port={host}",
        f"--data-dir={data_dir}",
        f"--project={project}",
        "--quiet",
    ]


def gcloud_env(config_dir: Path) -> dict[str, str]:
    """A private gcloud config: no prompts, no update checks, nothing written to the user's ~/.config."""
    return {
        "CLOUDSDK_CONFIG": str(config_dir),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
    }


def wait_ready(host: str, *, timeout: float, alive: object = None) -> bool:
    """Poll until the emulator answers; False on timeout or when ``alive()`` says it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if emulator_ready(host):
            return True
        if callable(alive) and not alive():
            return False
        time.sleep(0.25)
    return False
