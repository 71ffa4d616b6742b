"""`push` to the real registry with htpasswd auth (user oauth2accesstoken, the token as password)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from engines.registry import RegistryServer
from shipit.adapters.gcp import auth
from shipit.adapters.registry import Credentials, RegistryClient
from shipit.errors import RemoteError
from shipit.plan import Action
from shipit.steps import build, push

from .conftest import Project

pytestmark = [pytest.mark.docker, pytest.mark.registry]


def test_push_records_digests_and_a_second_push_uploads_nothing(project: Project, registry: RegistryServer) -> None:
    ctx = project.ctx()
    built = build.apply(ctx, build.plan(ctx))
    ctx = project.ctx()
    plan = push.plan(ctx)
    assert {c.resource: c.action for c in plan} == {"image api": Action.CREATE, "image web": Action.CREATE}
    # Not Artifact Registry: no repository change, said in a note.
    assert any("not Artifact Registry" in n for n in plan.notes)
    result = push.apply(ctx, plan)
    client = RegistryClient(registry.host, Credentials(registry.user, registry.token))
    for service in ("api", "web"):
        repo_path = f"test-proj/{project.repository}/{service}"
        digest = client.manifest_digest(repo_path, built[service].ref.rsplit(":", 1)[1])
        assert result[service] == f"{project.repo(service)}@{digest}"
        sha = project.git("rev-parse", "HEAD")
        assert client.manifest_digest(repo_path, f"git-{sha[:12]}") == digest
    recorded = json.loads((project.root / ".shipit" / "images" / "staging.json").read_text())
    assert recorded == result
    # The token went through stdin: docker stored the login in its config, nothing else.
    config = json.loads((project.docker.config_dir / "config.json").read_text())
    assert registry.host in config["auths"]

    second = push.plan(project.ctx())
    assert not second.has_changes
    assert push.apply(project.ctx(), second) == result


def test_new_commit_same_content_only_adds_the_git_tag(project: Project, registry: RegistryServer) -> None:
    ctx = project.ctx()
    build.apply(ctx, build.plan(ctx, ["web"]))
    first = push.apply(project.ctx(), push.plan(project.ctx(), ["web"]))
    (project.root / "README.md").write_text("outside every build context\n")
    sha = project.commit("docs")
    plan = push.plan(project.ctx(), ["web"])
    (change,) = plan.changes
    assert change.action is Action.UPDATE and "(no upload)" in change.summary
    assert push.apply(project.ctx(), plan) == first
    client = RegistryClient(registry.host, Credentials(registry.user, registry.token))
    digest = first["web"].split("@")[1]
    assert client.manifest_digest(f"test-proj/{project.repository}/web", f"git-{sha[:12]}") == digest


def test_wrong_token_fails_clearly(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = project.ctx()
    build.apply(ctx, build.plan(ctx, ["web"]))
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN", "ya29.wrong-token")
    auth.reset_cache()
    with pytest.raises(RemoteError, match=r"registry 127\.0\.0\.1:\d+ rejected the credentials \(HTTP 401\)"):
        push.plan(project.ctx(), ["web"])
    with pytest.raises(RemoteError, match=r"docker login to .* was refused: the access token was not accepted"):
        ctx.remote.docker.login(project.host, "oauth2accesstoken", "ya29.wrong-token")


def test_push_before_build_says_what_to_do(project: Project) -> None:
    from shipit.errors import UsageError

    with pytest.raises(UsageError, match="neither built nor in the registry") as caught:
        push.plan(project.ctx(), ["api"])
    assert caught.value.hint == "run `shipit build api` first"


def test_cli_build_and_push(project: Project, registry: RegistryServer) -> None:
    env = {**os.environ, **project.docker.env_overrides(), "NO_COLOR": "1"}

    def shipit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipit", *args], cwd=project.root, env=env, capture_output=True, text=True
        )

    dry = shipit("build", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    data = json.loads(dry.stdout)
    assert data["dry_run"] is True and data["plan"]["counts"]["create"] == 2
    built = shipit("build", "web")
    assert built.returncode == 0, built.stderr
    assert "web | Step 1/" in built.stdout
    pushed = shipit("push", "web", "--yes")
    assert pushed.returncode == 0, pushed.stderr
    assert f"web: {project.repo('web')}@sha256:" in pushed.stdout
    env["CLOUDSDK_AUTH_ACCESS_TOKEN"] = "ya29.wrong"
    failed = shipit("push", "web", "--yes")
    assert failed.returncode == 1
    assert "error: the registry" in failed.stderr and "rejected the credentials" in failed.stderr
    assert "Traceback" not in failed.stderr and "ya29.wrong" not in failed.stderr + failed.stdout
