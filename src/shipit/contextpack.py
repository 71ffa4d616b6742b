"""The build context as a tar.gz, for a remote builder: exactly the files the content hash covers.

The file set comes from ``contexthash.context_entries`` (``.dockerignore`` with Docker's semantics), so the
uploaded source and the ``c-<hash>`` tag describe the same bytes. The archive is reproducible (sorted
entries, zeroed owners and times), so the same context always gives the same upload. A Dockerfile outside
the context is added under ``DOCKERFILE_OUTSIDE``.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from shipit.contexthash import DockerIgnore, context_entries

DOCKERFILE_OUTSIDE = ".shipit/Dockerfile"


@dataclass(frozen=True)
class PackedContext:
    data: bytes
    files: int
    dockerfile: str  # the Dockerfile's path inside the archive

    @property
    def size(self) -> int:
        return len(self.data)


def dockerfile_in_archive(context: Path, dockerfile: Path) -> str:
    try:
        return dockerfile.resolve().relative_to(context.resolve()).as_posix()
    except ValueError:
        return DOCKERFILE_OUTSIDE


def pack_context(context: Path, dockerfile: Path) -> PackedContext:
    """The context as a gzipped tar (every entry .dockerignore keeps, in path order)."""
    entries = context_entries(context, DockerIgnore.for_context(context))
    inner = dockerfile_in_archive(context, dockerfile)
    raw = io.BytesIO()
    files = 0
    # mtime=0 in the gzip header too: the same context packs to the same bytes.
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for entry in entries:
            info = tarfile.TarInfo(entry.path)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            path = context / entry.path
            if entry.kind == "d":
                info.type = tarfile.DIRTYPE
                info.mode = entry.mode
                tar.addfile(info)
            elif entry.kind == "l":
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(path)
                tar.addfile(info)
            else:
                try:
                    with path.open("rb") as f:
                        size = os.fstat(f.fileno()).st_size
                        info.size = size
                        info.mode = entry.mode
                        tar.addfile(info, f)
                except OSError:
                    continue  # unreadable since the walk: the hash listed it as skipped too
                files += 1
        if inner == DOCKERFILE_OUTSIDE:
            data = dockerfile.read_bytes()
            info = tarfile.TarInfo(DOCKERFILE_OUTSIDE)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return PackedContext(raw.getvalue(), files, inner)
