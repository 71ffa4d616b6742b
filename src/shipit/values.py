"""What each value written into a generated file must be, checked before any generator runs.

Generators serialize through a real emitter (yaml.safe_dump, the HCL string escaper, JSON-form Dockerfile
instructions), so a value can never change a file's structure; these checks catch what an emitter cannot:
a value that is well escaped but meaningless where it lands (a bucket named ``Bad Bucket!``, a workload
identity provider ``$(...)``, a registry host with a path). Each check raises :class:`InvalidValue` with
a one-line reason; the caller names the flag or the config key (with file:line) in a usage error.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable

# Shown values are cut: an error line must stay one line and short, whatever was passed.
_SHOW_MAX = 60


class InvalidValue(ValueError):
    """A value that cannot be written where it was meant to go. ``str()`` is one line."""


def shown(value: str) -> str:
    """A value quoted for an error message: JSON-escaped (newlines, control characters) and cut."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 4] + '..."'


def _fail(value: str, what: str) -> InvalidValue:
    return InvalidValue(f"{shown(value)} is not {what}")


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = rf"{_IDENT}(?:\.{_IDENT})*"
# gunicorn/uvicorn's "module:attribute", or "module:factory()" for an app factory called without arguments.
_PYTHON_APP = re.compile(rf"{_DOTTED}(?::{_DOTTED}(?:\(\))?)?")


def python_app(value: str) -> str:
    if len(value) > 200 or not _PYTHON_APP.fullmatch(value):
        raise _fail(value, "a Python module path like pkg.module:app (letters, digits, _ and dots)")
    return value


# A segment of a relative directory: no glob, negation or comment characters (it also lands in .dockerignore).
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def relative_dir(value: str) -> str:
    """A directory below the build context: relative, no '..', plain characters (normalized: no end slash)."""
    parts = [p for p in value.strip("/").split("/") if p not in ("", ".")] if not value.startswith("/") else None
    if (
        parts is None
        or not parts
        or len(value) > 200
        or any(p == ".." or not _SEGMENT.fullmatch(p) for p in parts)
        or value.startswith("/")
    ):
        raise _fail(value, "a relative directory like dist or build/web (letters, digits, . _ -, no '..')")
    return "/".join(parts)


_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]*[a-z0-9]")


def gcs_bucket(value: str) -> str:
    """Cloud Storage bucket naming rules (https://cloud.google.com/storage/docs/buckets#naming)."""
    what = (
        "a Cloud Storage bucket name (3-63 lowercase letters, digits, '-', '_', '.'; "
        "starts and ends with a letter or digit)"
    )
    if not 3 <= len(value) <= 222 or not _BUCKET.fullmatch(value):
        raise _fail(value, what)
    parts = value.split(".")
    if (len(parts) == 1 and len(value) > 63) or any(not 1 <= len(p) <= 63 for p in parts):
        raise _fail(value, what)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        raise _fail(value, "a Cloud Storage bucket name (an IP address is not allowed)")
    if value.startswith("goog") or re.search(r"g[o0][o0]g[l1]e", value):
        raise _fail(value, "a Cloud Storage bucket name (names cannot start with 'goog' or contain 'google')")
    return value


# Conservative email: what an IAM member can be, and nothing a YAML or expression engine would interpret.
_EMAIL = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9])?@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"
)


def email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise _fail(value, "an email address like deployer@PROJECT.iam.gserviceaccount.com")
    return value


_WIF = re.compile(
    r"projects/[0-9]{1,20}/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}"
)


def wif_provider(value: str) -> str:
    if not _WIF.fullmatch(value):
        raise _fail(
            value,
            "a provider resource name projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER",
        )
    return value


# git check-ref-format, restricted to characters that need no quoting anywhere (YAML, shell, expressions).
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")


def branch(value: str) -> str:
    if (
        len(value) > 200
        or not _BRANCH.fullmatch(value)
        or ".." in value
        or "//" in value
        or value.endswith(("/", ".", ".lock"))
        or "/." in value
    ):
        raise _fail(value, "a git branch name (letters, digits, . _ - /)")
    return value


_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?"
_REGISTRY_HOST = re.compile(_HOST)


def registry_host(value: str) -> str:
    """A registry host, optionally with a port: no scheme, no path (the repository path is computed)."""
    if len(value) > 253 or not _REGISTRY_HOST.fullmatch(value):
        raise _fail(value, "a registry host like europe-docker.pkg.dev or localhost:5000 (no scheme, no path)")
    return value


# The reference grammar of the distribution project (docker/distribution reference/regexp.go).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"
_IMAGE = re.compile(rf"(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")


def image_ref(value: str) -> str:
    if len(value) > 255 or not _IMAGE.fullmatch(value):
        raise _fail(value, "an image reference like REGISTRY/PATH/NAME:TAG or NAME@sha256:DIGEST")
    return value


_SERVICE = re.compile(r"[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?")


def service_name(value: str) -> str:
    if not _SERVICE.fullmatch(value):
        raise _fail(value, "a Cloud Run service name (lowercase letters, digits and hyphens)")
    return value


def checked(flag: str, check: Callable[[str], str], value: str) -> str:
    """``check(value)``, or a usage error (exit 2) naming the command-line flag."""
    try:
        return check(value)
    except InvalidValue as exc:
        from shipit.errors import UsageError

        raise UsageError(f"{flag}: {exc}") from None
