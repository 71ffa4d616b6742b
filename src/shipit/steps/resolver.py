"""The one place a step or command gets an earlier step's result, and says where it came from.

Resolution order, first hit wins:
  1. this run      the step ran (or was planned, with its predicted result) in this process
  2. state file    ``.shipit/state/ENV.json``, only when its stamp (app, environment, project, region,
                   config fingerprint) matches the current target; otherwise ignored, with a note
  3. live remote   push: the registry's content tag (``c-<hash>``) of the image built from the current
                   sources; infra: the Terraform outputs cache ``shipit infra apply|output`` refreshes
                   (used instead of the state file when it is newer). The services step also falls
                   back to what the live service runs (its image, its pinned secret versions).
Each lookup is recorded on the context (``StepContext.sources``); the pipeline adds them to the plan of
the step that asked, so every plan says which source each input came from.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from shipit.results import PERSISTED, InfraResult, PushResult, StepResult

if TYPE_CHECKING:
    from shipit.steps.context import StepContext

R = TypeVar("R", bound=StepResult)

THIS_RUN = "this run"


def _note(ctx: StepContext, step: str, source: str) -> None:
    ctx.sources[step] = source


def earlier(ctx: StepContext, kind: type[R]) -> R | None:
    """``kind``'s result (e.g. :class:`PushResult`) from the first source that has it, or None."""
    step = kind.STEP
    if step in ctx.results:
        current = ctx.results.get(step)
        _note(ctx, step, THIS_RUN)
        return current if isinstance(current, kind) else None
    if step not in PERSISTED:
        _note(ctx, step, "none (results of this step are not kept between runs)")
        return None
    from shipit.state import read_state

    state = read_state(ctx.target)
    shown = _display(ctx, state.path)
    stored = state.get(step)
    prefix = f"state file {shown} ignored: {state.ignored}; " if state.ignored else ""
    live = _LIVE.get(step)
    if stored is not None:
        newer = live is not None and step == InfraResult.STEP and _cache_newer(ctx, stored.written)
        if not newer:
            _note(ctx, step, f"state file {shown} (written {stored.written})")
            loaded: R = kind.from_json(stored.data)  # type: ignore[attr-defined]
            return loaded
        prefix = f"state file {shown} superseded by a newer Terraform outputs cache; "
    if live is not None:
        found, source = live(ctx)
        _note(ctx, step, prefix + source)
        return found if isinstance(found, kind) else None
    _note(ctx, step, prefix + "none")
    return None


def _display(ctx: StepContext, path: Any) -> str:
    try:
        return str(path.relative_to(ctx.target.root))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------------ live remotes


def _live_push(ctx: StepContext) -> tuple[PushResult | None, str]:
    """Digests the registry has under the content tag of the images the current sources would build."""
    from shipit.errors import ShipitError

    target = ctx.target
    from shipit.steps.images import buildable, with_sidecars

    names = buildable(target, with_sidecars(target, list(target.config.services)))[0]
    if not names:
        return None, "none (no service is built by shipit)"
    if ctx.options.offline:
        return None, "none (offline: the registry is not asked)"
    from shipit.adapters.git import git_info
    from shipit.steps.images import resolve_images

    try:
        specs = resolve_images(target, names, git_info(target.root))
        client = ctx.remote.registry
        images = {}
        for spec in specs:
            digest = client.manifest_digest(spec.repository_path, spec.tag)
            if digest:
                images[spec.service] = f"{spec.repo}@{digest}"
    except (ShipitError, OSError) as exc:
        return None, f"none (the registry could not be asked: {str(exc).splitlines()[0] if str(exc) else exc})"
    if not images:
        return None, "none (the registry has no image built from the current sources)"
    listed = ", ".join(sorted(images))
    return PushResult(images), f"registry content tags of the current sources ({listed})"


def _outputs_cache(ctx: StepContext) -> Any:
    from shipit.infra.run import infra_paths

    return infra_paths(ctx.target).outputs_file


def _cache_newer(ctx: StepContext, written: str) -> bool:
    try:
        mtime = _outputs_cache(ctx).stat().st_mtime
        stored = calendar.timegm(time.strptime(written, "%Y-%m-%dT%H:%M:%SZ"))
    except (OSError, ValueError):
        return False
    # The state entry's time has whole seconds: only a cache written in a later second supersedes it.
    return int(mtime) > stored


def _live_infra(ctx: StepContext) -> tuple[InfraResult | None, str]:
    import json

    path = _outputs_cache(ctx)
    shown = _display(ctx, path)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None, "none (no Terraform outputs: run the infra step or `shipit infra apply`)"
    except (OSError, ValueError):
        return None, f"none ({shown} is not readable)"
    target = ctx.target
    if document.get("environment") != target.env_name or document.get("project") != target.project:
        return None, f"none ({shown} was written for another environment or project)"
    outputs = document.get("outputs")
    return InfraResult(dict(outputs) if isinstance(outputs, dict) else {}), f"Terraform outputs cache {shown}"


_LIVE: dict[str, Callable[[StepContext], tuple[Any, str]]] = {
    PushResult.STEP: _live_push,
    InfraResult.STEP: _live_infra,
}


def source_notes(sources: dict[str, str]) -> list[str]:
    """Plan notes: where each input of a step came from."""
    return [f"input {step}: {source}" for step, source in sorted(sources.items())]
