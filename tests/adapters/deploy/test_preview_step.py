"""The preview step through the real Cloud Run client against fakegcp (in-process): two pull requests'
previews written at the same time both land, and the base keeps its traffic."""

from __future__ import annotations

import dataclasses

from adapters.deploy.conftest import DIGEST_B, Project, image
from shipit.steps import preview as preview_step
from shipit.steps.context import StepContext


def _preview(project: Project, name: str, digest: str) -> StepContext:
    ctx = project.ctx({"api": image("api", digest)})
    return dataclasses.replace(ctx, options=dataclasses.replace(ctx.options, preview=name))


def test_a_write_that_lost_the_race_re_reads_and_keeps_both_previews(project: Project) -> None:
    project.write("api:\n  env: {LOG_LEVEL: info}\n")
    project.deploy({"api": image("api")})
    base = project.service("api")["trafficStatuses"]
    first = _preview(project, "pr-1", DIGEST_B)
    planned = preview_step.plan(first)  # reads the service (and its etag) now
    second = _preview(project, "pr-2", "sha256:" + "c" * 64)
    preview_step.apply(second, preview_step.plan(second))  # another pipeline writes the service meanwhile

    result = preview_step.apply(first, planned)
    assert set(result.urls) == {"api"}
    tags = {t["tag"] for t in project.service("api")["traffic"] if t.get("tag")}
    assert tags == {"pr-1", "pr-2"}
    ready = project.service("api")["latestReadyRevision"]
    assert ready.endswith(result.revisions["api"])  # the newest revision is pr-1's, yet it serves nothing:
    serving = [(s["revision"], s["percent"]) for s in project.service("api")["trafficStatuses"] if s.get("percent")]
    base_revision = base[0].get("revision") or project.revisions("api")[0]
    assert serving == [(base_revision, 100)]
    # pr-2's write, pr-1's refused one (stale etag), pr-1's again after reading the service anew.
    assert project.writes().count("run.projects.locations.services.patch") == 3
