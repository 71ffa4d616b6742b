"""How a generated pipeline installs shipit: one pinned pip requirement, never a bare name.

``ci.install`` in shipit.yaml wins. Otherwise the requirement is derived from how the running shipit
was installed:
  - from a source tree (an editable install, or ``PYTHONPATH=.../src``): that directory, with a warning
    (it exists only on this machine);
  - from a VCS URL (PEP 610 ``direct_url.json``, ``vcs_info``): ``git+URL@COMMIT``;
  - from an archive URL with a hash (``archive_info``): ``URL#sha256=HASH``; a local file or a URL without
    a hash gets a warning;
  - from a package index (no ``direct_url.json``): ``shipit==VERSION`` with a warning (an index name is
    only as trustworthy as the index the pipeline reaches; pin a URL with its hash instead).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SET_IT = "set ci.install in shipit.yaml to a git URL at a tag (git+https://...@v1.2.0) or a wheel URL with #sha256="


@dataclass(frozen=True)
class InstallSpec:
    requirement: str  # what `pip install` gets
    origin: str  # "ci.install", "vcs", "archive", "local", "index"
    warning: str | None = None


def _source_tree(package_dir: Path) -> Path | None:
    """The project directory when the package runs from a source tree (``ROOT/src/shipit``)."""
    root = package_dir.parent.parent
    if package_dir.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def _local(path: str) -> InstallSpec:
    return InstallSpec(
        path,
        "local",
        f"shipit runs from the local directory {path} (editable or local install): the pipeline installs from "
        f"that path, which exists only on this machine; {SET_IT}",
    )


def from_direct_url(direct: dict[str, Any], version: str) -> InstallSpec:
    """The requirement PEP 610 ``direct_url.json`` describes."""
    url = str(direct.get("url", ""))
    if url.startswith("file://"):
        return _local(url.removeprefix("file://"))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        return InstallSpec(f"{vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}", "vcs")
    archive = direct.get("archive_info")
    if isinstance(archive, dict):
        hashes = archive.get("hashes") if isinstance(archive.get("hashes"), dict) else {}
        sha = hashes.get("sha256") if hashes else None
        legacy = str(archive.get("hash", ""))
        if not sha and legacy.startswith("sha256="):
            sha = legacy.removeprefix("sha256=")
        if sha:
            return InstallSpec(f"{url.split('#', 1)[0]}#sha256={sha}", "archive")
        return InstallSpec(url, "archive", f"shipit was installed from {url} without a recorded hash; {SET_IT}")
    return InstallSpec(f"shipit=={version}", "index", f"cannot tell where shipit {version} came from; {SET_IT}")


def default_install() -> InstallSpec:
    """The requirement that installs the shipit running now."""
    import importlib.metadata

    import shipit

    package_dir = Path(shipit.__file__).resolve().parent
    tree = _source_tree(package_dir)
    if tree is not None:
        return _local(str(tree))
    try:
        dist = importlib.metadata.distribution("shipit")
    except importlib.metadata.PackageNotFoundError:
        return _local(str(package_dir))
    text = dist.read_text("direct_url.json")
    if text:
        try:
            return from_direct_url(json.loads(text), dist.version)
        except ValueError:
            pass
    return InstallSpec(
        f"shipit=={dist.version}",
        "index",
        f"shipit {dist.version} was installed from a package index: the pipeline installs the same name and "
        f"version from whatever index it reaches; {SET_IT}",
    )


def install_spec(configured: str | None) -> InstallSpec:
    if configured:
        local = configured.startswith(("/", "./", "../", "file://"))
        return _local(configured) if local else InstallSpec(configured, "ci.install")
    return default_install()
