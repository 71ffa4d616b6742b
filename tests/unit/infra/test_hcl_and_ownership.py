"""The HCL emitter, ownership headers and regeneration that keeps the user's edits."""

from __future__ import annotations

from pathlib import Path

from infra_support import CONFIGS, parse, targets_of, write_config

from shipit.infra import ownership
from shipit.infra.generate import GenerateOptions, apply_files, desired_files, edited_files, plan_files
from shipit.plan import Action
from shipit.render.hcl import Attr, Block, Comment, Raw, render, string


def test_strings_are_escaped_so_values_are_never_templates() -> None:
    assert string('a"b\\c${x}%{y}\n') == '"a\\"b\\\\c\\u0024{x}\\u0025{y}\\n"'
    text = render([Block("locals", (), (Attr("v", 'a"b${x}'), Attr("n", None), Attr("e", Raw("var.x"))))])
    # python-hcl2 reads the \u escape back: the value is the literal text, the Raw expression a reference.
    assert parse(text)["locals"][0] == {"v": 'a"b${x}', "n": None, "e": "${var.x}"}
    assert '"a\\"b\\u0024{x}"' in text and "e = var.x" in text


def test_alignment_runs_break_at_comments_and_multiline_values() -> None:
    text = render(
        [
            Block(
                "module",
                ("m",),
                (Attr("a", 1), Attr("long_name", 2), Comment("why"), Attr("b", {"k": "v", "x-y": []}), Attr("c", 3)),
            )
        ]
    )
    assert text == (
        'module "m" {\n  a         = 1\n  long_name = 2\n  # why\n  b = {\n    k   = "v"\n    x-y = []\n  }\n'
        "  c = 3\n}\n"
    )


def _plan(infra: Path, desired: dict[str, str], force: bool = False):  # type: ignore[no-untyped-def]
    return plan_files(infra, desired, GenerateOptions(force=force))


def test_regeneration_keeps_edits_and_user_files(tmp_path: Path) -> None:
    targets = targets_of(write_config(tmp_path, CONFIGS["one-database"]))
    desired = desired_files(targets)
    infra = tmp_path / "infra"
    first = _plan(infra, desired)
    assert {c.action for c in first} == {Action.CREATE}
    apply_files(first)
    assert all(ownership.classify((infra / rel).read_text()) is ownership.State.OWNED for rel in desired)

    # Unchanged config: nothing to do.
    assert not _plan(infra, desired).has_changes

    # The user edits an owned file, adds their own file, and takes over another (header removed).
    edited = infra / "registry.tf"
    edited.write_text(edited.read_text() + "\n# my cleanup policy\n")
    (infra / "custom.tf").write_text('resource "google_storage_bucket" "mine" {}\n')
    taken = infra / "apis.tf"
    taken.write_text(ownership.split(taken.read_text())[1])

    # The config changes: shipit's version of registry.tf would change too.
    targets2 = targets_of(
        write_config(tmp_path, CONFIGS["one-database"].replace("tier: db-g1-small", "tier: db-f1-micro"))
    )
    desired2 = desired_files(targets2)
    desired2["registry.tf"] = desired2["registry.tf"].replace("tagged by content", "tagged by digest")
    plan = _plan(infra, desired2)
    by = {c.resource: c for c in plan}
    assert by["infra/registry.tf"].action is Action.NOOP
    assert edited_files(plan) == ["infra/registry.tf"]
    assert any("+# my cleanup policy" not in n and "-# my cleanup policy" in n for n in plan.notes), plan.notes
    assert by["infra/apis.tf"].action is Action.NOOP and "yours" in by["infra/apis.tf"].summary
    assert "infra/custom.tf" not in by
    assert by["infra/environments/prod/main.tf"].action is Action.UPDATE
    apply_files(plan)
    assert "# my cleanup policy" in edited.read_text()
    assert (infra / "custom.tf").exists()
    assert "db-f1-micro" in (infra / "environments/prod/main.tf").read_text()

    # --force takes shipit's version of the edited file; the user's own files still stay.
    forced = _plan(infra, desired2, force=True)
    assert {c.resource: c.action for c in forced}["infra/registry.tf"] is Action.UPDATE
    apply_files(forced)
    assert "my cleanup policy" not in edited.read_text()
    assert (infra / "custom.tf").exists() and ownership.classify(taken.read_text()) is ownership.State.USER


def test_files_no_longer_needed_are_removed_only_when_unedited(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    apply_files(_plan(infra, desired_files(targets_of(write_config(tmp_path, CONFIGS["pubsub"])))))
    assert (infra / "pubsub.tf").exists() and (infra / "databases.tf").exists()
    databases = infra / "databases.tf"
    databases.write_text(databases.read_text() + "# tuned\n")
    plan = _plan(infra, desired_files(targets_of(write_config(tmp_path, CONFIGS["no-database"]))))
    by = {c.resource: c.action for c in plan}
    assert by["infra/pubsub.tf"] is Action.DELETE
    assert by["infra/databases.tf"] is Action.NOOP
    apply_files(plan)
    assert not (infra / "pubsub.tf").exists() and databases.exists()


def test_header_hash_detects_any_edit() -> None:
    text = ownership.with_header("a = 1\n")
    assert ownership.classify(text) is ownership.State.OWNED
    assert ownership.classify(text.replace("1", "2")) is ownership.State.EDITED
    assert ownership.classify("a = 1\n") is ownership.State.USER
    assert ownership.classify(None) is ownership.State.MISSING
