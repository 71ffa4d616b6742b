"""The package import graph of src/shipit has no cycle between its top-level parts.

Each subpackage (adapters, cli, config, infra, local, render, steps) and each top-level module (plan,
remote, names, ...) is one node; every import counts, also those inside functions and under
TYPE_CHECKING, since each is a dependency someone has to read past.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "shipit"


def _imported(tree: ast.AST) -> set[str]:
    """Dotted names of the shipit modules a module imports."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("shipit."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "shipit":
                found.update(f"shipit.{alias.name}" for alias in node.names)
            elif node.module.startswith("shipit."):
                found.add(node.module)
    return found


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Top-level part -> the other top-level parts it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(src.rglob("*.py")):
        part = path.relative_to(src).parts[0].removesuffix(".py")
        targets = {name.split(".")[1] for name in _imported(ast.parse(path.read_text(), str(path)))}
        graph.setdefault(part, set()).update(t for t in targets if t != part)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_top_level_packages_and_modules() -> None:
    graph = import_graph()
    assert {"adapters", "cli", "config", "render", "local", "steps"} <= set(graph)
    assert cycles(graph) == []


def test_the_check_finds_a_cycle(tmp_path: Path) -> None:
    for package, other in (("render", "local"), ("local", "render")):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(f"def f():\n    from shipit.{other}.x import y\n")
    (tmp_path / "names.py").write_text("import os\n")
    assert cycles(import_graph(tmp_path)) == [["local", "render"]]


def test_the_services_step_is_used_only_through_its_public_api() -> None:
    """Only steps/services/ itself imports its modules; everyone else imports `shipit.steps.services`."""
    package = SRC / "steps" / "services"
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if package in path.parents:
            continue
        for name in _imported(ast.parse(path.read_text(), str(path))):
            if name.startswith("shipit.steps.services."):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_the_checker_sees_a_private_import() -> None:
    tree = ast.parse("from shipit.steps.services.inputs import Resolver\n")
    assert _imported(tree) == {"shipit.steps.services.inputs"}
