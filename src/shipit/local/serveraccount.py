"""Running a local database server as an unprivileged account when shipit runs as root.

PostgreSQL refuses root and MariaDB needs `--user`: both then run as their system account (or `nobody`),
which must be able to reach the data directory, and every command that touches the data runs through
`runuser`. One place for that, so both servers behave alike."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import tempfile
from pathlib import Path

from shipit.errors import ToolError


def unprivileged_user(server: str, names: tuple[str, ...], why: str) -> pwd.struct_passwd | None:
    """None when not root; else the first of ``names`` that exists. ``why``: the server's objection to root."""
    if os.geteuid() != 0:
        return None
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    accounts = " or ".join(repr(n) for n in names)
    raise ToolError(
        f"{server} {why} and there is no {accounts} user to run it as",
        hint=f"run shipit as a normal user, or create one: useradd --system {names[0]}",
    )


def reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """True if ``user`` can traverse every existing ancestor of ``path`` (x permission)."""
    for directory in [path, *path.parents]:
        if not directory.exists():
            continue
        info = directory.stat()
        if info.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid == user.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def data_location(state_dir: Path, engine: str, key: str, user: pwd.struct_passwd | None) -> Path:
    """`.shipit/native/ENGINE/KEY`, or a per-project directory under /tmp when ``user`` cannot reach it."""
    preferred = state_dir / "native" / engine / key
    if user is None or reachable(preferred, user):
        return preferred
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"shipit-{engine}-{digest}" / key


def as_user(user: pwd.struct_passwd | None, argv: list[str], server: str) -> list[str]:
    if user is None:
        return argv
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if not os.path.exists(runuser):
        raise ToolError(f"running as root needs runuser (util-linux) to start {server} as an unprivileged user")
    return [runuser, "-u", user.pw_name, "--", *argv]


def chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    os.chown(path, user.pw_uid, user.pw_gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"\n--- {path} (last {len(text)} lines) ---\n" + "\n".join(text)
