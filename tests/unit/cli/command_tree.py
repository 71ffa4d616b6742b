"""Every command of the real click tree, found by walking it (so a new command is covered without a list)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import click

from shipit.cli.main import cli


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]  # e.g. ("services", "deploy")
    command: click.Command
    parents: tuple[click.Command, ...]  # root first

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def option_names(self) -> set[str]:
        """Every option string this command accepts, its groups' included (`shipit local --runtime native up`)."""
        return _options((*self.parents, self.command))


def leaves() -> Iterator[Leaf]:
    ctx = click.Context(cli)

    def walk(command: click.Command, path: tuple[str, ...], parents: tuple[click.Command, ...]) -> Iterator[Leaf]:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, name
                yield from walk(sub, (*path, name), (*parents, command))
        else:
            yield Leaf(path, command, parents)

    yield from walk(cli, (), ())


def _options(commands: tuple[click.Command, ...]) -> set[str]:
    names: set[str] = set()
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option):
                names.update(param.opts)
                names.update(param.secondary_opts)
    return names


def reference(words: list[str]) -> tuple[str, set[str]]:
    """For a `shipit ...` reference: the command (or group) it names and every option valid at its end."""
    ctx = click.Context(cli)
    chain: tuple[click.Command, ...] = (cli,)
    rest = list(words)
    while rest and isinstance(chain[-1], click.Group):
        group = chain[-1]
        assert isinstance(group, click.Group)
        word = rest[0]
        if word.startswith("-"):
            takes_value = any(
                word in p.opts and not (isinstance(p, click.Option) and (p.is_flag or p.count)) for p in group.params
            )
            rest = rest[2:] if takes_value else rest[1:]
            continue
        sub = group.get_command(ctx, word)
        if sub is None:
            break
        chain = (*chain, sub)
        rest = rest[1:]
    name = " ".join(c.name or "" for c in chain[1:])
    return name, _options(chain)
