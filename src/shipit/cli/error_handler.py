"""Map every exception to a one-line message and an exit code; never show a raw traceback by default."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import click

from shipit.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    MAX_SHOWN_ISSUES,
    Cancelled,
    ConfigError,
    ShipitError,
)


def _write(text: str) -> None:
    from shipit.output import REDACTOR

    sys.stderr.write(REDACTOR.redact(text) + "\n")
    sys.stderr.flush()


def _emit_json(payload: dict[str, object]) -> None:
    import json

    from shipit.output import REDACTOR

    sys.stdout.write(json.dumps(REDACTOR.redact_data({"error": payload})) + "\n")
    sys.stdout.flush()


def _crash_log(text: str) -> Path:
    directory = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "shipit"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        directory = Path(tempfile.gettempdir())
    path = directory / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    path.write_text(text)
    return path


@contextlib.contextmanager
def error_handler(*, verbose: int = 0, json_mode: bool = False) -> Iterator[None]:
    try:
        yield
    except ConfigError as exc:
        if json_mode:
            payload: dict[str, object] = {"exit_code": exc.exit_code, "issues": exc.rendered_lines()}
            if len(exc.issues) > MAX_SHOWN_ISSUES:
                payload["count"] = len(exc.issues)  # the last line of "issues" counts the ones left out
            _emit_json(payload)
        for line in exc.rendered_lines():
            _write(f"error: {line}")
        raise SystemExit(exc.exit_code) from None
    except Cancelled as exc:
        if json_mode:
            _emit_json({"exit_code": exc.exit_code, "message": exc.render()})
        _write(exc.render())  # an answer, not an error
        raise SystemExit(exc.exit_code) from None
    except ShipitError as exc:
        if json_mode:
            _emit_json({"exit_code": exc.exit_code, "message": exc.render()})
        _write(f"error: {exc.render()}")
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:
        if json_mode:
            _emit_json({"exit_code": EXIT_USAGE, "message": exc.format_message()})
        exc.show()
        raise SystemExit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code) from None
    except (KeyboardInterrupt, click.Abort):
        _write("interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        raise SystemExit(EXIT_FAILURE) from None
    except Exception as exc:
        from shipit.output import REDACTOR

        trace = REDACTOR.redact(traceback.format_exc())
        if json_mode:
            _emit_json({"exit_code": EXIT_FAILURE, "message": f"unexpected error: {type(exc).__name__}"})
        if verbose:
            _write(trace)
        else:
            where = _crash_log(trace)
            _write(
                f"error: unexpected {type(exc).__name__}: {exc} (this is a bug in shipit; "
                f"traceback written to {where}, or rerun with -v)"
            )
        raise SystemExit(EXIT_FAILURE) from None
