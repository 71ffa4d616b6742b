"""`shipit deploy --preview NAME`, `shipit preview list|delete` as subprocesses against fakegcp's HTTP server.

web's API_URL is ``${services.api.url}``: in a preview that changes api, web gets api's preview URL."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from e2e.deploy.conftest import PARENT, Cli, image

BASE = ("services", "deploy", "--yes", "--image", f"api={image('api')}", "--image", f"web={image('web')}")
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


def preview(cli: Cli, name: str, api: str = "a", web: str = "a", extra: tuple[str, ...] = ()) -> Any:
    images = ("--image", f"api={image('api', api)}", "--image", f"web={image('web', web)}")
    return cli("deploy", "--preview", name, "--only", "preview", "--yes", *images, *extra)


def revision(cli: Cli, service: str, rid: str) -> dict[str, Any]:
    return cli.fake.run.revisions[f"{PARENT}/services/{service}/revisions/{rid}"]  # type: ignore[no-any-return]


def tagged(cli: Cli, service: str) -> dict[str, str]:
    return {t["tag"]: t["revision"] for t in cli.service(service)["traffic"] if t.get("tag")}


def serving(cli: Cli, service: str) -> list[tuple[str, int]]:
    """(revision, percent) of the targets with traffic, as the fake routes them."""
    ready = cli.service(service)["latestReadyRevision"].rsplit("/", 1)[-1]
    return sorted(
        (s.get("revision") or ready, s["percent"]) for s in cli.service(service)["trafficStatuses"] if s.get("percent")
    )


def env_of(rev: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in rev["containers"][0].get("env", [])}


def test_preview_gets_its_dependencies_preview_url_and_moves_no_traffic(cli: Cli, tmp_path: Path) -> None:
    assert cli(*BASE).returncode == 0
    base = {s: serving(cli, s) for s in ("api", "web")}
    api_url = cli.service("api")["uri"]
    output = tmp_path / "github_output"
    cli.env["GITHUB_OUTPUT"] = str(output)

    result = preview(cli, "pr-1", api="b", web="a", extra=("--json",))
    assert result.returncode == 0, result.stderr
    assert {s: serving(cli, s) for s in ("api", "web")} == base  # every user still reaches the base revisions
    api_rev, web_rev = tagged(cli, "api")["pr-1"], tagged(cli, "web")["pr-1"]
    assert api_rev.startswith("api-pr-1-") and web_rev.startswith("web-pr-1-")
    # The traffic block: the base pinned at 100%, the preview revision at 0% under its tag.
    assert cli.service("api")["traffic"] == [
        {"type": REVISION, "revision": base["api"][0][0], "percent": 100},
        {"type": REVISION, "revision": api_rev, "tag": "pr-1"},
    ]
    api_preview_url = api_url.replace("https://", "https://pr-1---")
    assert env_of(revision(cli, "web", web_rev))["API_URL"] == api_preview_url
    assert revision(cli, "api", api_rev)["containers"][0]["image"] == image("api", "b")
    assert revision(cli, "api", api_rev)["labels"]["shipit-preview"] == "pr-1"
    # Printed in the JSON events, written for CI.
    event = next(e for e in map(json.loads, result.stdout.splitlines()) if e.get("event") == "preview")
    assert event["urls"]["api"] == api_preview_url
    written = json.loads((tmp_path / ".shipit" / "previews" / "pr-1.json").read_text())
    assert written["urls"] == event["urls"]
    assert output.read_text().startswith("preview_urls={")
    assert json.loads(output.read_text().strip().split("=", 1)[1]) == event["urls"]

    # A second preview changing only web: its API_URL is the base api's URL, api is not in it.
    second = preview(cli, "pr-2", api="a", web="b")
    assert second.returncode == 0, second.stderr
    assert "pr-2" not in tagged(cli, "api")
    assert env_of(revision(cli, "web", tagged(cli, "web")["pr-2"]))["API_URL"] == api_url
    assert tagged(cli, "web")["pr-1"] == web_rev  # the other preview keeps its revision

    listed = cli("preview", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {p["name"]: p for p in listed.json()["previews"]}
    assert set(rows) == {"pr-1", "pr-2"}
    assert rows["pr-1"]["services"] == ["api", "web"] and rows["pr-2"]["services"] == ["web"]
    assert rows["pr-1"]["urls"]["api"] == api_preview_url
    table = cli("preview", "list")
    assert "pr-1" in table.stdout and "PREVIEW" in table.stdout


def test_redeploying_a_preview_is_a_no_op_then_an_update(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    assert preview(cli, "pr-7", api="b").returncode == 0
    first = tagged(cli, "api")["pr-7"]
    created = revision(cli, "api", first)["labels"]["shipit-preview-created"]
    cli.fake.reset_calls()
    again = preview(cli, "pr-7", api="b")
    assert again.returncode == 0, again.stderr
    assert cli.fake.mutating_calls() == []
    assert "api: https://pr-7---" in again.stdout

    updated = preview(cli, "pr-7", api="c")
    assert updated.returncode == 0, updated.stderr
    now = tagged(cli, "api")["pr-7"]
    assert now != first and revision(cli, "api", now)["containers"][0]["image"] == image("api", "c")
    assert list(tagged(cli, "api")) == ["pr-7"]  # one tag per preview, moved to the new revision
    # The revision it replaced served only this preview: deleted.
    assert first not in cli.fake.run.revision_names(f"{PARENT}/services/api")
    # The creation time stays the first deploy's.
    assert revision(cli, "api", now)["labels"]["shipit-preview-created"] == created


def test_delete_removes_tags_and_only_their_revisions(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    base_api = serving(cli, "api")
    assert preview(cli, "pr-1", api="b").returncode == 0
    assert preview(cli, "pr-2", api="c").returncode == 0
    pr1 = tagged(cli, "api")["pr-1"]
    pr2 = tagged(cli, "api")["pr-2"]

    no_tty = cli("preview", "delete", "pr-1")
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr
    dry = cli("preview", "delete", "pr-1", "--dry-run")
    assert dry.returncode == 0 and pr1 in dry.stdout

    gone = cli("preview", "delete", "pr-1", "--yes")
    assert gone.returncode == 0, gone.stderr
    assert tagged(cli, "api") == {"pr-2": pr2}
    revisions = cli.fake.run.revision_names(f"{PARENT}/services/api")
    assert pr1 not in revisions and pr2 in revisions
    assert serving(cli, "api") == base_api
    assert not (cli.root / ".shipit" / "previews" / "pr-1.json").exists()

    # pr-2's revision is the service's latest: its tag goes, the revision stays (Cloud Run refuses).
    last = cli("preview", "delete", "pr-2", "--yes")
    assert last.returncode == 0, last.stderr
    assert tagged(cli, "api") == {}
    assert "latest revision of api" in last.stdout + last.stderr
    assert serving(cli, "api") == base_api
    assert cli("preview", "list", "--json").json()["previews"] == []


def test_delete_older_than(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    assert preview(cli, "pr-old", api="b").returncode == 0
    assert preview(cli, "pr-new", api="c").returncode == 0
    old = revision(cli, "api", tagged(cli, "api")["pr-old"])
    old["labels"]["shipit-preview-created"] = str(int(time.time()) - 10 * 86400)

    result = cli("preview", "delete", "--older-than", "7d", "--yes")
    assert result.returncode == 0, result.stderr
    assert list(tagged(cli, "api")) == ["pr-new"]


def test_a_release_after_a_preview_serves_the_release_not_the_preview(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    assert preview(cli, "pr-1", api="b").returncode == 0
    pr1 = tagged(cli, "api")["pr-1"]
    release = cli(
        "services", "deploy", "--yes", "--image", f"api={image('api', 'c')}", "--image", f"web={image('web')}"
    )
    assert release.returncode == 0, release.stderr
    ((rev, percent),) = serving(cli, "api")
    assert percent == 100 and rev != pr1
    assert revision(cli, "api", rev)["containers"][0]["image"] == image("api", "c")
    assert tagged(cli, "api")["pr-1"] == pr1  # the preview survives the release


def test_bad_preview_names_exit_2_before_any_call(cli: Cli) -> None:
    for name in ("PR-1", "1pr", "pr_1", "pr-", "x" * 40, "candidate"):
        result = cli("deploy", "--preview", name, "--yes")
        assert result.returncode == 2, (name, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2
    assert cli.fake.calls == []
    both = cli("preview", "delete", "pr-1", "--older-than", "7d", "--yes")
    assert both.returncode == 2
    assert cli("deploy", "--preview", "pr-1", "--canary", "10", "--yes").returncode == 2


def test_rollback_and_promote_never_send_traffic_to_a_preview(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    first = serving(cli, "api")[0][0]
    assert preview(cli, "pr-1", api="c").returncode == 0
    pr1 = tagged(cli, "api")["pr-1"]
    promote = cli("promote", "api", "--yes")  # the latest revision is the preview's
    assert promote.returncode == 1 and "preview pr-1" in promote.stderr, promote.stderr
    assert serving(cli, "api") == [(first, 100)]

    release = cli("services", "deploy", "api", "--yes", "--image", f"api={image('api', 'b')}")
    assert release.returncode == 0, release.stderr
    # The preview's revision is newer than the first release's, but was never a release.
    back = cli("rollback", "api", "--yes")
    assert back.returncode == 0, back.stderr
    assert serving(cli, "api") == [(first, 100)]
    assert tagged(cli, "api")["pr-1"] == pr1


def test_a_failed_preview_revision_leaves_the_base_as_it_was(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    before = cli.service("api")["traffic"]
    cli.fake.run.fail_revisions("api")
    failed = preview(cli, "pr-9", api="b")
    assert failed.returncode == 1
    assert "pr-9" in failed.stderr and "Traceback" not in failed.stderr
    assert "pr-9" not in tagged(cli, "api")
    assert [t for t in cli.service("api")["traffic"] if t.get("percent")] == [
        {"type": REVISION, "revision": before[0].get("revision") or serving(cli, "api")[0][0], "percent": 100}
    ]


def test_a_service_back_to_the_base_leaves_the_preview_and_prune_oldest(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    assert preview(cli, "pr-1", api="b", web="b").returncode == 0
    assert set(tagged(cli, "web")) == {"pr-1"}
    back = preview(cli, "pr-1", api="a", web="b")  # api as in the base again
    assert back.returncode == 0, back.stderr
    assert "pr-1" not in tagged(cli, "api") and "pr-1" in tagged(cli, "web")
    assert env_of(revision(cli, "web", tagged(cli, "web")["pr-1"]))["API_URL"] == cli.service("api")["uri"]

    assert preview(cli, "pr-2", api="c").returncode == 0
    pruned = preview(cli, "pr-3", api="d", extra=("--prune-oldest", "1"))
    assert pruned.returncode == 0, pruned.stderr
    assert set(tagged(cli, "api")) == {"pr-2", "pr-3"}


def test_the_plan_warns_near_cloud_runs_tag_limit(cli: Cli) -> None:
    assert cli(*BASE).returncode == 0
    web = cli.service("web")
    rev = serving(cli, "web")[0][0]
    # 1,800 tags already in the region (as other apps or old previews leave them): 90% of Cloud Run's 2,000.
    web["traffic"].extend({"type": REVISION, "revision": rev, "tag": f"old-{i}"} for i in range(1800))
    result = preview(cli, "pr-1", api="b", extra=("--dry-run",))
    assert result.returncode == 0, result.stderr
    assert "Cloud Run allows 2000" in result.stdout + result.stderr
    assert "--prune-oldest" in result.stdout + result.stderr
