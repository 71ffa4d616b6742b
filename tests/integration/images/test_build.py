"""`build` on the real Docker engine (classic builder, as on these machines) and the real registry."""

from __future__ import annotations

import json
import re

import pytest

from shipit.contexthash import context_entries
from shipit.plan import Action
from shipit.steps import build, push
from shipit.steps.buildlog import BuildFailed

from .conftest import Project

pytestmark = [pytest.mark.docker, pytest.mark.registry]


def _actions(plan: object) -> dict[str, str]:
    return {c.resource.split()[-1]: c.action.value for c in plan}  # type: ignore[attr-defined]


def test_multi_stage_build_then_everything_is_cached(project: Project) -> None:
    ctx = project.ctx()
    plan = build.plan(ctx)
    assert _actions(plan) == {"api": "create", "web": "create"}
    result = build.apply(ctx, plan)
    sha = project.git("rev-parse", "HEAD")
    api = result["api"]
    assert api.source == "built" and api.ref.startswith(project.repo("api") + ":c-")
    assert f"{project.repo('api')}:git-{sha[:12]}" in api.tags
    # Only the artifact reached the final stage, which runs as the non-root user.
    assert project.run_image(api.ref).strip() == "HELLO"
    assert project.run_image(api.ref, "id", "-u").strip() == "1000"
    assert "junk.txt" not in project.run_image(api.ref, "ls", "/").split()
    labels = json.loads(project.docker_cli("image", "inspect", "--format", "{{json .Config.Labels}}", api.ref).stdout)
    assert labels["org.opencontainers.image.revision"] == sha
    assert labels["org.opencontainers.image.created"].endswith("Z")
    # Live per-service log lines, prefixed, in plain mode (not a TTY).
    human = ctx.console.out.getvalue()  # type: ignore[attr-defined]
    assert "api | Step 3/" in human and "web | Step 1/" in human
    assert "DEPRECATED" not in human

    again = build.plan(project.ctx())
    assert not again.has_changes
    assert all("cached in the local engine" in c.summary for c in again)


def test_ignored_edit_keeps_the_tag_other_edits_rebuild_only_that_service(project: Project) -> None:
    ctx = project.ctx()
    first = build.apply(ctx, build.plan(ctx))
    (project.root / "api" / "notes" / "todo.md").write_text("edited, but .dockerignore'd\n")
    (project.root / "api" / "debug.log").write_text("ignored too\n")
    plan = build.plan(project.ctx())
    assert not plan.has_changes
    (project.root / "web" / "site" / "index.html").write_text("<h1>changed</h1>\n")
    plan = build.plan(project.ctx())
    assert _actions(plan) == {"api": "no-op", "web": "create"}
    second = build.apply(project.ctx(), plan)
    assert second["web"].ref != first["web"].ref and second["api"].ref == first["api"].ref
    assert project.run_image(second["web"].ref).strip() == "<h1>changed</h1>"


def test_hashed_files_are_exactly_what_docker_sends(project: Project) -> None:
    ctx_dir = project.root / "web"
    (ctx_dir / "Dockerfile").write_text("FROM busybox\nCOPY . /ctx\n")
    (ctx_dir / ".dockerignore").write_text(
        "# docker semantics, not gitignore\n*.tmp\n**/*.pyc\nbuild\n!build/keep.txt\ncache/**\n/abs.txt\n"
    )
    for rel in (
        "a.tmp",
        "sub/a.tmp",
        "sub/m.pyc",
        "m.pyc",
        "build/x.txt",
        "build/keep.txt",
        "cache/c.txt",
        "abs.txt",
        "sub/abs.txt",
        "deep/er/file.txt",
    ):
        path = ctx_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    ctx = project.ctx()
    result = build.apply(ctx, build.plan(ctx, ["web"]))
    sent = set(project.run_image(result["web"].ref, "find", "/ctx", "-type", "f").split())
    ours = {f"/ctx/{e.path}" for e in context_entries(ctx_dir) if e.kind == "f"}
    assert sent == ours
    assert "/ctx/sub/a.tmp" in sent and "/ctx/build/keep.txt" in sent and "/ctx/sub/abs.txt" in sent
    assert "/ctx/a.tmp" not in sent and "/ctx/m.pyc" not in sent and "/ctx/build/x.txt" not in sent


def test_broken_dockerfile_names_the_service_and_step(project: Project) -> None:
    (project.root / "web" / "Dockerfile").write_text("FROM busybox\nCOPY site /site\nRUN echo about to fail && false\n")
    ctx = project.ctx()
    with pytest.raises(BuildFailed) as caught:
        build.apply(ctx, build.plan(ctx))
    message = caught.value.message
    # (the classic builder appends one step per --label, hence "3/N")
    expected = r"build of service 'web' failed at step 3/\d+ `RUN echo about to fail && false` \(web/Dockerfile:3\)"
    assert re.search(expected, message)
    assert "returned a non-zero code: 1" in message
    assert "web | about to fail" in message  # the log tail
    assert caught.value.exit_code == 1
    # The other build was not cut short: it finished and is cached.
    assert _actions(build.plan(project.ctx())) == {"api": "no-op", "web": "create"}


def test_dockerfile_syntax_error(project: Project) -> None:
    (project.root / "web" / "Dockerfile").write_text("FROM busybox\nRUNN nope\n")
    ctx = project.ctx()
    with pytest.raises(BuildFailed, match=r"build of service 'web' failed \(web/Dockerfile\): .*RUNN"):
        build.apply(ctx, build.plan(ctx, ["web"]))


def test_missing_dockerfile_is_a_usage_error(project: Project) -> None:
    (project.root / "web" / "Dockerfile").unlink()
    from shipit.errors import UsageError

    with pytest.raises(UsageError, match=r"web/Dockerfile does not exist") as caught:
        build.plan(project.ctx())
    assert "shipit dockerfile web" in (caught.value.hint or "")


def test_build_is_skipped_when_the_registry_has_the_tag(project: Project) -> None:
    ctx = project.ctx()
    built = build.apply(ctx, build.plan(ctx, ["api"]))
    ctx = project.ctx()
    pushed = push.apply(ctx, push.plan(ctx, ["api"]))
    project.docker_cli("image", "rm", "--force", *built["api"].tags)
    plan = build.plan(project.ctx(), ["api"])
    (change,) = plan.changes
    assert change.action is Action.NOOP and "in the registry" in change.summary
    assert pushed["api"].split("@")[1] in change.summary
