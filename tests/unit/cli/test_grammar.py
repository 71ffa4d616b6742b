"""One CLI grammar, checked on the real command tree: effects, --dry-run, --yes, global options, hints."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import click
import pytest
from command_tree import leaves, reference

from shipit.cli.app import Effect, effect_of

SRC = Path(__file__).resolve().parents[3] / "src" / "shipit"
GLOBAL = {"-f", "--file", "-e", "--env", "--json", "-v", "--verbose", "-q", "--quiet", "--no-color"}
# Global options a command cannot take after its name, and why (its help says so).
GLOBAL_EXCEPTIONS = {"local logs": {"-f", "--file"}}  # -f is --follow there: -f FILE goes before `local`
WITH_GLOBALS = [leaf.name for leaf in leaves()]
WITH_FILE = [leaf.name for leaf in leaves() if leaf.name not in GLOBAL_EXCEPTIONS]
MUTATING = [leaf.name for leaf in leaves() if effect_of(leaf.command) in (Effect.REMOTE, Effect.DELETES)]
SERVICES_PLAN = ["plan", "deploy", "services deploy"]  # every command that plans the services step
# Hints outside a command's own function that name an option bare (not in a `shipit ...` reference):
# (module, option) -> the commands that can raise them. Each must have the option, so a hint never
# names an option its command lacks.
HINT_REACH = {
    ("cli/app.py", "-f"): WITH_FILE,
    ("cli/app.py", "--yes"): MUTATING,
    ("config/yamlmarks.py", "-f"): WITH_FILE,
    ("config/target.py", "-e"): WITH_GLOBALS,
    ("config/target.py", "--env"): WITH_GLOBALS,
    ("initwrite.py", "--app"): ["init"],
    ("initwrite.py", "--project"): ["init"],
    ("initwrite.py", "--region"): ["init"],
    ("initwrite.py", "--force"): ["init"],
    ("pipeline.py", "--yes"): ["deploy"],  # confirm_and_apply: the tail of `deploy` and `deploy --preview`
    ("steps/preview/removal.py", "--older-than"): ["preview delete"],
    ("logs/command.py", "--job"): ["logs"],
    ("logs/command.py", "--execution"): ["logs"],
    ("logs/query.py", "--since"): ["logs"],
    ("secrets_tools.py", "--force"): ["secrets pull"],
    ("secrets_tools.py", "--output"): ["secrets pull"],
    ("envfile.py", "--force"): ["secrets pull"],
    ("envfile.py", "--output"): ["secrets pull"],
    ("writefile.py", "--force"): ["init", "ci generate", "dockerfile"],
    ("steps/services/api.py", "--offline"): ["plan"],  # an offline plan exists only in `plan --offline`
    ("steps/services/deploy.py", "--canary"): ["deploy", "services deploy"],
    ("steps/workers/api.py", "--offline"): ["plan"],  # an offline plan exists only in `plan --offline`
    ("steps/workers/deploy.py", "--canary"): ["deploy"],
    ("steps/services/inputs.py", "--image"): SERVICES_PLAN,
    ("destroy/execute.py", "--include-data"): ["destroy"],
    ("adapters/compose.py", "--runtime"): ["local up", "local down", "local ps", "local logs", "local exec"],
    ("adapters/gitrange.py", "--changed-since"): ["plan"],  # only `plan --changed-since` asks git for a range
}
# Options of other programs, named in hints that tell the user what to run outside shipit.
FOREIGN = {("local/serveraccount.py", "--system"), ("local/native.py", "--port")}
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")


def test_every_command_declares_its_effect() -> None:
    unclassified = [leaf.name for leaf in leaves() if effect_of(leaf.command) is None]
    assert unclassified == [], "decorate each with @effect(Effect....) from shipit.cli.app"


@pytest.mark.parametrize("leaf", [pytest.param(leaf, id=leaf.name) for leaf in leaves()])
def test_writing_commands_have_dry_run_and_mutating_ones_yes(leaf: object) -> None:
    from command_tree import Leaf

    assert isinstance(leaf, Leaf)
    kind = effect_of(leaf.command)
    options = leaf.option_names()
    if kind is not Effect.READ:
        assert "--dry-run" in options, f"{leaf.name} writes: it needs --dry-run"
    if kind in (Effect.REMOTE, Effect.DELETES):
        assert {"-y", "--yes"} <= options, f"{leaf.name} changes state: it needs -y/--yes"
    if leaf.name not in GLOBAL_EXCEPTIONS:
        assert options >= GLOBAL, f"{leaf.name} lacks global options {sorted(GLOBAL - options)}"


def _hints(tree: ast.AST) -> list[tuple[int, str, ast.AST]]:
    """Every hint text (hint= keyword, or a ConfigIssue's 4th argument) with its line and enclosing node."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        values = [k.value for k in node.keywords if k.arg == "hint"]
        if isinstance(node.func, ast.Name) and node.func.id == "ConfigIssue" and len(node.args) >= 4:
            values.append(node.args[3])
        for value in values:
            parts = [n.value for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            found.append((node.lineno, "{}".join(parts), node))
    return found


def _command_functions(module: str, tree: ast.Module) -> dict[ast.AST, set[str]]:
    """cli/ modules: each command function's node -> the options of that command."""
    out: dict[ast.AST, set[str]] = {}
    by_callback = {leaf.command.callback: leaf for leaf in leaves()}
    mod = importlib.import_module("shipit.cli." + module.removeprefix("cli/").removesuffix(".py"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            command = getattr(mod, node.name, None)
            if isinstance(command, click.Command) and command.callback in by_callback:
                out[node] = by_callback[command.callback].option_names()
    return out


def test_hints_only_name_options_the_command_has() -> None:
    problems = []
    by_name = {leaf.name: leaf for leaf in leaves()}
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text())
        hints = _hints(tree)
        commands = _command_functions(module, tree) if module.startswith("cli/") else {}
        for line, text, node in hints:
            where = f"{module}:{line}"
            for ref in re.findall(r"`shipit ([^`]*)`", text):
                words = ref.split()
                name, options = reference(words)
                for opt in OPTION.findall(" ".join(words)):
                    if opt not in options:
                        problems.append(f"{where}: `shipit {ref}`: {name or 'shipit'} has no {opt}")
            bare = OPTION.findall(re.sub(r"`[^`]*`", "", text))
            bare = [o for o in bare if (module, o) not in FOREIGN]
            if not bare:
                continue
            owners = [opts for fn, opts in commands.items() if _inside(node, fn)]
            if commands and not owners:  # a helper of a cli/ module: the commands it serves
                owners = list(commands.values())
            for opt in bare:
                if owners:  # raised in a command's own function: that command must have it
                    problems.extend(f"{where}: {module} has no {opt}" for opts in owners if opt not in opts)
                    continue
                if (module, opt) not in HINT_REACH:
                    problems.append(f"{where}: hint names {opt}: add ({module!r}, {opt!r}) to HINT_REACH")
                    continue
                problems.extend(
                    f"{where}: hint names {opt}, which `shipit {name}` lacks"
                    for name in HINT_REACH[(module, opt)]
                    if opt not in by_name[name].option_names()
                )
    assert problems == [], "\n".join(problems)


def _inside(node: ast.AST, function: ast.AST) -> bool:
    return any(child is node for child in ast.walk(function))


def test_readme_lists_exactly_the_commands_that_ask() -> None:
    readme = (SRC.parents[1] / "README.md").read_text()
    section = readme.split("## Confirmation", 1)[1].split("\n## ", 1)[0]
    named = set()
    for ref in re.findall(r"`([a-z][a-z |-]*)`", section.split("shows its", 1)[0]):
        head, _, rest = ref.partition(" ")
        if "|" in rest:
            named.update(f"{head} {sub}" for sub in rest.split("|"))
        else:
            named.add(ref.removesuffix(" --volumes"))
    assert named == set(MUTATING)


def test_readme_command_table_names_every_command() -> None:
    readme = (SRC.parents[1] / "README.md").read_text()
    table = readme.split("## What each command does", 1)[1].split("\n### ", 1)[0]
    missing = [leaf.path[0] for leaf in leaves() if f"`shipit {leaf.path[0]}" not in table]
    assert missing == []
