"""HCL's quoted-string escapes, read back independently of shipit's emitter (python-hcl2 returns the literal
as written): backslash escapes, \\uNNNN / \\UNNNNNNNN, and the template escapes $${ and %%{."""

from __future__ import annotations

import re

_TOKEN = re.compile(r'\\(?:[nrt"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})|\$\$\{|%%\{')
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def unquote(literal: str) -> str:
    assert literal.startswith('"') and literal.endswith('"'), literal
    body = literal[1:-1]

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("$${", "%%{"):
            return token[1:]
        if token[1] in "uU":
            return chr(int(token[2:], 16))
        return _SIMPLE[token[1]]

    return _TOKEN.sub(one, body)
