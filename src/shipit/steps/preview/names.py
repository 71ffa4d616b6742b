"""The preview name: a Cloud Run traffic tag, and the labels a preview's revisions carry.

A tag URL is ``https://TAG---SERVICE-HASH-REGION.a.run.app`` (or ``TAG---SERVICE-PROJECTNUMBER.REGION.run.app``):
its first DNS label holds the tag and the service name, and a DNS label is at most 63 characters.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shipit.errors import UsageError
from shipit.names import PREVIEW_LABEL

__all__ = ["CREATED_LABEL", "PREVIEW_LABEL", "check_name", "max_length", "revision_id", "tag_url"]
CREATED_LABEL = "shipit-preview-created"  # Unix seconds of the preview's first deploy

_TAG = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")
DNS_LABEL = 63
# "---" between tag and service, then "-" + a 12-character project hash or number + "-" + a region code.
_URL_OVERHEAD = len("---") + len("-") + 12 + len("-xx")
# Cloud Run's own limit on a tag.
MAX_TAG = 46
# Words shipit already uses as tags (staged rollouts).
RESERVED = frozenset({"candidate", "latest"})


def max_length(services: Iterable[str]) -> int:
    longest = max((len(s) for s in services), default=0)
    return max(0, min(MAX_TAG, DNS_LABEL - _URL_OVERHEAD - longest))


def check_name(name: str, services: Iterable[str]) -> str:
    """The preview name, or UsageError (exit 2) saying what a valid one looks like."""
    services = list(services)
    limit = max_length(services)
    hint = f"lowercase letters, digits and dashes, starting with a letter, at most {limit} characters, e.g. pr-123"
    if not _TAG.match(name) or "---" in name:
        raise UsageError(f"--preview {name!r} is not a valid preview name", hint=hint)
    if name in RESERVED:
        raise UsageError(f"--preview {name!r} is a tag shipit already uses", hint="pick another name, e.g. pr-123")
    if len(name) > limit:
        longest = max(services, key=len) if services else ""
        raise UsageError(
            f"--preview {name!r} is {len(name)} characters: its URL with service {longest!r} would be too long",
            hint=hint,
        )
    return name


def revision_id(service: str, preview: str, template: Mapping[str, Any]) -> str:
    """``SERVICE-PREVIEW-HASH``: the same template gives the same revision, so an unchanged re-deploy is a no-op."""
    labels = {k: v for k, v in (template.get("labels") or {}).items() if not k.startswith("shipit-")}
    body = {k: v for k, v in template.items() if k not in ("labels", "revision")} | {"labels": labels}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:6]
    return f"{service}-{preview}-{digest}"


def tag_url(base_url: str, tag: str) -> str:
    """The URL Cloud Run gives a tag: the tag and ``---`` before the service's host."""
    scheme, sep, host = base_url.partition("://")
    return f"{scheme}{sep}{tag}---{host}" if sep else f"{tag}---{base_url}"
