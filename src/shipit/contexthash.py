"""Content addressing of image builds: one hash over everything that determines the image.

The hash covers the files of the build context that ``.dockerignore`` does not exclude (path, type,
permission bits, content or symlink target), the Dockerfile, the target stage, the build args, the
platform and the ids of the build secrets (never their values). Two builds with the same hash produce
the same image, so the hash is the image tag and a tag the engine or the registry already has need not
be built again. An edit in an ignored file changes nothing; any included byte changes the tag.

``.dockerignore`` follows Docker's own semantics (moby/patternmatcher), not gitignore's: patterns are
anchored at the context root (``*.pyc`` matches only at the top, ``**/*.pyc`` everywhere), a pattern
that matches a directory excludes everything below it, ``!`` re-includes, and the last match wins.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Bump when the hashed representation changes, so old tags are not mistaken for new ones.
HASH_VERSION = b"shipit-context-v1"
TAG_PREFIX = "c-"
TAG_HEX_CHARS = 24  # 96 bits: collisions are not a practical concern for one repository's tags
_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Pattern:
    text: str
    negate: bool
    regex: re.Pattern[str]
    parts: tuple[str, ...]


def _compile(pattern: str) -> re.Pattern[str]:
    """Translate a cleaned .dockerignore pattern to a regex, as moby/patternmatcher does."""
    out = "^"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 1
                if i + 1 < n and pattern[i + 1] == "/":
                    i += 1  # "**/" is treated as "**"
                # "**" at the end matches everything; elsewhere any number of whole segments.
                out += ".*" if i + 1 >= n else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i])
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out += "[" + body.replace("\\", "\\\\") + "]"
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


class DockerIgnore:
    """The patterns of one .dockerignore file, matched with Docker's semantics."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        patterns: list[_Pattern] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:].strip()
            cleaned = posixpath.normpath(line.replace(os.sep, "/"))
            if len(cleaned) > 1 and cleaned.startswith("/"):
                cleaned = cleaned.lstrip("/")
            if cleaned in ("", "."):
                continue
            try:
                regex = _compile(cleaned)
            except re.error:
                continue  # Docker rejects such a pattern too; `docker build` will say so
            patterns.append(_Pattern(cleaned, negate, regex, tuple(cleaned.split("/"))))
        self.patterns = tuple(patterns)
        self._has_negations = any(p.negate for p in self.patterns)

    @classmethod
    def for_context(cls, context: Path) -> DockerIgnore:
        path = context / ".dockerignore"
        try:
            if not path.is_file() or path.stat().st_size > 1024 * 1024:
                return cls()
            return cls(path.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            return cls()

    def excludes(self, relpath: str) -> bool:
        """True when the context path (posix, relative) is not sent to the builder."""
        parents = _parents(relpath)
        excluded = False
        for pattern in self.patterns:
            # A pattern matching any parent directory matches the file too.
            if pattern.negate == excluded and any(pattern.regex.match(p) for p in parents):
                excluded = not pattern.negate
        return excluded

    def may_reinclude_below(self, directory: str) -> bool:
        """Whether some ``!`` pattern could match a path inside an excluded ``directory`` (so it can't be pruned)."""
        if not self._has_negations:
            return False
        dir_parts = directory.split("/")
        for pattern in self.patterns:
            if not pattern.negate:
                continue
            for index, part in enumerate(dir_parts):
                if index >= len(pattern.parts):
                    break
                if pattern.parts[index].startswith("**") or "**" in pattern.parts[index]:
                    return True
                if not fnmatch.fnmatchcase(part, pattern.parts[index]):
                    break
            else:
                return True
        return False


def _parents(relpath: str) -> list[str]:
    parts = relpath.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True)
class Entry:
    path: str
    kind: str  # "f" file, "d" directory, "l" symlink
    mode: int
    size: int = 0


# A build context larger than this is refused: it is almost always a missing .dockerignore (node_modules, a
# data directory) or a context pointing at the wrong directory, and hashing it would take minutes.
MAX_CONTEXT_ENTRIES = 20_000


class ContextTooLarge(Exception):
    """More than MAX_CONTEXT_ENTRIES entries survive .dockerignore."""


def context_entries(
    context: Path, ignore: DockerIgnore | None = None, *, skipped: list[str] | None = None
) -> list[Entry]:
    """The entries Docker would send for ``context``, sorted by path (a directory is listed before its contents).

    Unreadable entries (a root-owned database directory, a file without read permission) are left out and
    named in ``skipped``; the walk never follows symlinks, so a symlink loop is just a link.
    """
    ignore = ignore if ignore is not None else DockerIgnore.for_context(context)
    found: list[Entry] = []
    skipped = skipped if skipped is not None else []

    def walk(directory: Path, prefix: str) -> None:
        try:
            with os.scandir(directory) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError:
            skipped.append(prefix.rstrip("/") or ".")
            return
        for child in children:
            rel = f"{prefix}{child.name}"
            try:
                st = child.stat(follow_symlinks=False)
            except OSError:
                skipped.append(rel)
                continue
            if len(found) >= MAX_CONTEXT_ENTRIES:
                raise ContextTooLarge(rel)
            if stat.S_ISDIR(st.st_mode):
                excluded = ignore.excludes(rel)
                if not excluded:
                    found.append(Entry(rel, "d", stat.S_IMODE(st.st_mode)))
                if not excluded or ignore.may_reinclude_below(rel):
                    walk(Path(child.path), rel + "/")
            elif ignore.excludes(rel):
                continue
            elif stat.S_ISLNK(st.st_mode):
                found.append(Entry(rel, "l", 0))
            elif stat.S_ISREG(st.st_mode):
                if not os.access(child.path, os.R_OK):
                    skipped.append(rel)
                    continue
                found.append(Entry(rel, "f", stat.S_IMODE(st.st_mode), st.st_size))
            # sockets, fifos and devices are not sent by docker either

    walk(context, "")
    return found


def file_digest(path: Path) -> bytes:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.digest()


@dataclass(frozen=True)
class BuildInputs:
    """Everything besides the context files that determines the image."""

    context: Path
    dockerfile: Path
    target: str | None = None
    args: Mapping[str, str] | None = None
    platform: str = "linux/amd64"
    secret_ids: Sequence[str] = ()


@dataclass(frozen=True)
class ContextHash:
    digest: str  # sha256 hex of everything
    files: int
    bytes: int
    skipped: tuple[str, ...] = ()  # unreadable entries left out (the builder could not send them either)

    @property
    def tag(self) -> str:
        return content_tag(self.digest)


def content_tag(digest: str) -> str:
    return TAG_PREFIX + digest[:TAG_HEX_CHARS]


def _b(text: str) -> bytes:
    # File names need not be UTF-8: os gives undecodable bytes back as surrogates, which must round-trip.
    return text.encode("utf-8", "surrogateescape")


def _safe_digest(path: Path) -> bytes | None:
    try:
        return file_digest(path)
    except OSError:
        return None


def _records(context: Path, entries: Sequence[Entry], workers: int, skipped: list[str]) -> Iterator[bytes]:
    files = [e for e in entries if e.kind == "f"]
    # hashlib releases the GIL on large buffers, so threads overlap both I/O and hashing.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        digests = dict(
            zip((e.path for e in files), pool.map(lambda e: _safe_digest(context / e.path), files), strict=True)
        )
    for entry in entries:
        if entry.kind == "f":
            digest = digests[entry.path]
            if digest is None:  # became unreadable between the walk and the read
                skipped.append(entry.path)
                continue
            yield b"f\0%s\0%o\0%s\n" % (
                _b(entry.path),
                entry.mode,
                digest.hex().encode(),
            )
        elif entry.kind == "l":
            try:
                target = os.readlink(context / entry.path)
            except OSError:
                skipped.append(entry.path)
                continue
            yield b"l\0%s\0%s\n" % (
                _b(entry.path),
                _b(target),
            )
        else:
            yield b"d\0%s\0%o\n" % (_b(entry.path), entry.mode)


def hash_build(inputs: BuildInputs, *, workers: int = 4) -> ContextHash:
    """The content hash of one image build (see the module docstring for what it covers).

    Raises ContextTooLarge past MAX_CONTEXT_ENTRIES entries; unreadable entries are listed in ``skipped``.
    """
    context = inputs.context
    skipped: list[str] = []
    entries = context_entries(context, skipped=skipped)
    h = hashlib.sha256(HASH_VERSION + b"\n")
    h.update(b"dockerfile\0" + file_digest(inputs.dockerfile).hex().encode() + b"\n")
    h.update(b"target\0" + (inputs.target or "").encode() + b"\n")
    h.update(b"platform\0" + inputs.platform.encode() + b"\n")
    for key, value in sorted((inputs.args or {}).items()):
        h.update(b"arg\0%s\0%s\n" % (key.encode(), value.encode()))
    for secret_id in sorted(inputs.secret_ids):
        h.update(b"secret\0%s\n" % secret_id.encode())
    for record in _records(context, entries, workers, skipped):
        h.update(record)
    for path in sorted(set(skipped)):
        # An unreadable entry still counts: the tag changes when it appears or disappears.
        h.update(b"u\0%s\n" % _b(path))
    return ContextHash(
        digest=h.hexdigest(),
        files=sum(1 for e in entries if e.kind == "f"),
        bytes=sum(e.size for e in entries),
        skipped=tuple(sorted(set(skipped))),
    )
