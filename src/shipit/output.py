"""One console for everything shipit prints, with a redaction registry in front of every stream.

Every secret value shipit handles is registered with :data:`REDACTOR` the moment it is read, so even a
bug that tries to print one shows ``***`` instead. Human text goes to stderr when ``--json`` is on, so
stdout carries only machine-readable JSON.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import IO, Any

MASK = "***"
# Values shorter than this are not masked in free text: masking "1" or "on" would garble every line.
# They are still never printed on purpose (plans show changed/unchanged), this is only the safety net.
_MIN_REDACT_LEN = 4
# Nor are words that env files hold as settings, not secrets ("DEBUG=true"): masking them would corrupt
# unrelated output, such as every JSON boolean.
_NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "info", "debug", "warn", "error"})


def _maskable(candidate: str) -> bool:
    if len(candidate) < _MIN_REDACT_LEN or candidate.lower() in _NOT_SECRETS:
        return False
    return not (candidate.isdigit() and len(candidate) < 6)


def secret_forms(text: str) -> set[str]:
    """Every form in which a secret may reach a stream: raw, stripped, line by line (multi-line values such as
    certificates or JSON keys may be printed one line at a time), JSON- and repr-escaped (an error quoting an
    HTTP header dict shows ``'Authorization': 'Bearer abc\\n'``), and base64 (standard and URL-safe, with
    and without padding: a docker config or a basic-auth header carries it encoded)."""
    forms = {text, text.strip()}
    forms.update(line.strip() for line in text.splitlines())
    if not _maskable(text.strip()):
        return forms  # a short or settings-like value: its encodings would only garble unrelated output
    for value in (text, text.strip()):
        forms.add(json.dumps(value)[1:-1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(repr(value)[1:-1])
        data = value.encode("utf-8", "surrogatepass")
        for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
            forms.add(encoded.decode())
            forms.add(encoded.decode().rstrip("="))
    return forms


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._ordered: list[str] = []

    def register(self, value: str | bytes | None) -> None:
        self.register_many((value,))

    def register_many(self, values: Iterable[str | bytes | None]) -> None:
        """Register several values at once: the longest-first table is rebuilt once per batch, not per value."""
        candidates: set[str] = set()
        for value in values:
            if value is None:
                continue
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            candidates.update(secret_forms(text))
        with self._lock:
            new = {c for c in candidates if c not in self._values and _maskable(c)}
            if new:
                self._values |= new
                # Longest first so a value containing another is masked whole.
                self._ordered = sorted(self._values, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for value in self._ordered:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def redact_data(self, data: Any) -> Any:
        """Redact every string inside JSON-like data, leaving its structure (and non-strings) intact."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, dict):
            return {self.redact(str(k)): self.redact_data(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.redact_data(v) for v in data]
        return data

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._ordered = []


REDACTOR = Redactor()


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = REDACTOR.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction() -> None:
    root = logging.getLogger()
    if not any(isinstance(f, _RedactingFilter) for f in root.filters):
        root.addFilter(_RedactingFilter())
    for handler in root.handlers:
        if not any(isinstance(f, _RedactingFilter) for f in handler.filters):
            handler.addFilter(_RedactingFilter())


class Console:
    """Human text (coloured on a TTY) or JSON lines, always redacted."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        verbose: int = 0,
        quiet: bool = False,
        color: bool | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self.quiet = quiet
        self._stdout = stdout
        self._stderr = stderr
        if color is None:
            color = self.out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        self.color = color
        self._lock = threading.Lock()

    @property
    def out(self) -> IO[str]:
        return self._stdout or sys.stdout

    @property
    def err(self) -> IO[str]:
        return self._stderr or sys.stderr

    @property
    def human(self) -> IO[str]:
        """Where human-oriented text goes: stderr in --json mode so stdout stays parseable."""
        return self.err if self.json_mode else self.out

    @property
    def interactive(self) -> bool:
        return self.human.isatty() and not self.json_mode

    def _write(self, stream: IO[str], text: str) -> None:
        with self._lock:
            stream.write(REDACTOR.redact(text) + "\n")
            stream.flush()

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def print(self, text: str = "") -> None:
        """Primary output of a command (plans, tables, generated text)."""
        if self.json_mode:
            return
        self._write(self.out, text)

    def info(self, text: str) -> None:
        if not self.quiet:
            self._write(self.human, text)

    def detail(self, text: str) -> None:
        if self.verbose and not self.quiet:
            self._write(self.human, self._style(text, "2"))

    def success(self, text: str) -> None:
        if not self.quiet:
            self._write(self.human, self._style(text, "32"))

    def warn(self, text: str) -> None:
        self._write(self.err, self._style("warning: ", "33") + text)

    def error(self, text: str) -> None:
        self._write(self.err, self._style("error: ", "31;1") + text)

    def emit(self, data: Any) -> None:
        """One JSON document (or JSON event line) on stdout; only in --json mode."""
        if self.json_mode:
            # Redacted as data, not as text: masking inside serialized JSON could break its syntax.
            text = json.dumps(REDACTOR.redact_data(json.loads(json.dumps(data, default=str))))
            with self._lock:
                self.out.write(text + "\n")
                self.out.flush()

    def event(self, kind: str, **fields: Any) -> None:
        self.emit({"event": kind, **fields})

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None) -> None:
        if self.json_mode:
            return
        text_rows = [[str(cell) for cell in row] for row in rows]
        if self.color:
            from rich.console import Console as RichConsole
            from rich.table import Table

            table = Table(*columns, title=title)
            for row in text_rows:
                table.add_row(*(REDACTOR.redact(cell) for cell in row))
            RichConsole(file=self.out, no_color=False).print(table)
            return
        widths = [len(c) for c in columns]
        for row in text_rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
        if title:
            self.print(title)
        self.print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)).rstrip())
        for row in text_rows:
            self.print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())
