"""The preview's URLs for CI: ``.shipit/previews/NAME.json`` and, under GitHub Actions, ``preview_urls=`` in
``$GITHUB_OUTPUT`` (one line of JSON: {service: url}), which the generated workflow posts on the pull request."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipit.config import Target

PREVIEWS_DIR = Path(".shipit") / "previews"
OUTPUT_KEY = "preview_urls"


def preview_file(target: Target, name: str) -> Path:
    return target.root / PREVIEWS_DIR / f"{name}.json"


def write_outputs(target: Target, name: str, urls: Mapping[str, str]) -> Path:
    """Write the file (replacing an earlier one for this preview) and append to $GITHUB_OUTPUT when set."""
    path = preview_file(target, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"preview": name, "environment": target.env_name, "project": target.project, "urls": dict(urls)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    github = os.environ.get("GITHUB_OUTPUT")
    if github:
        # Tag URLs hold no newline (checked names, Cloud Run hosts): one line is one output.
        with open(github, "a", encoding="utf-8") as out:
            out.write(f"{OUTPUT_KEY}={json.dumps(dict(urls), sort_keys=True, separators=(',', ':'))}\n")
    return path


def remove_outputs(target: Target, name: str) -> None:
    preview_file(target, name).unlink(missing_ok=True)
