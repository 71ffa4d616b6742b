"""Canary: distinctive secret values go through every secrets command (success and failure paths, human
and --json, verbose) and must appear nowhere: not in stdout/stderr, crash logs, files the commands leave
behind (except pull's 0600 file), nor in the argv of any process the CLI starts (`ps`)."""

from __future__ import annotations

import base64
from pathlib import Path

from secrets_cli_support import PROJECT, Cli

CANARIES = {
    "STRIPE_KEY": "CANARY-stripe-7f3a9b1c",
    "DB_PASSWORD": "CANARY pass with spaces 55e1",
    "SA_JSON": '{"private_key": "CANARY-pem-line-one-0c4d",\n"more": "CANARY-pem-line-two-9e8f"}',
    "NPM_TOKEN": "CANARY-npm-2b6d4e8a",
}
FRAGMENTS = [
    "CANARY-stripe-7f3a9b1c",
    "CANARY pass with spaces 55e1",
    "CANARY-pem-line-one-0c4d",
    "CANARY-pem-line-two-9e8f",
    "CANARY-npm-2b6d4e8a",
    "7f3a9b1c",
    "2b6d4e8a",
]


def env_text(values: dict[str, str]) -> str:
    out = []
    for key, value in values.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'{key}="{escaped}"')
    return "\n".join(out) + "\n"


def leaks(text: str) -> list[str]:
    encoded = [base64.b64encode(f.encode()).decode() for f in FRAGMENTS]
    return [f for f in FRAGMENTS + encoded if f in text]


def test_no_secret_value_leaks_from_any_secrets_command(cli: Cli, tmp_path: Path) -> None:
    cli.write_env(env_text(CANARIES))
    env_file = cli.root / ".env.staging"
    for flags in ((), ("--json",), ("-v",)):
        cli("secrets", "diff", *flags)
        cli("secrets", "sync", "--dry-run", *flags)
    cli("secrets", "sync", "--yes", "-v")
    cli("secrets", "sync", "--yes", "--json")  # no-op path
    rotated = {**CANARIES, "STRIPE_KEY": "CANARY-stripe-7f3a9b1c-rotated"}
    cli.write_env(env_text(rotated))
    cli("secrets", "diff", "-v")
    cli("secrets", "sync", "--yes", "--json", "-v")
    for flags in ((), ("--json",), ("-v",)):
        cli("secrets", "list", *flags)
    pulled = [cli.root / "pulled.env", cli.root / "pulled-json.env"]
    cli("secrets", "pull", "--output", "pulled.env")
    cli("secrets", "pull", "--output", "pulled-json.env", "--json", "-v")
    cli("secrets", "pull", "--output", "pulled.env", expect=2)  # refusal path

    # Failure paths: a broken .env line, a value over 64 KiB, a server that keeps refusing writes.
    cli.write_env(env_text(rotated) + "CANARY-npm-2b6d4e8a is not a valid line\n")
    cli("secrets", "sync", "--yes", expect=2)
    cli("secrets", "sync", "--yes", "--json", expect=2)
    cli.write_env(env_text({**rotated, "SA_JSON": "CANARY-pem-line-one-0c4d" * 3000}))
    cli("secrets", "sync", "--yes", "-v", expect=2)
    cli.write_env(env_text({**CANARIES, "NPM_TOKEN": "CANARY-npm-2b6d4e8a-again"}))
    cli.fake.faults.fail("secretmanager.projects.secrets.addVersion", status=500, times=None)
    cli("secrets", "sync", "--yes", "-v", expect=1)  # retried, then fails
    cli.fake.faults.clear()
    cli.fake.faults.fail("secretmanager.projects.secrets.addVersion", status=403, times=None)
    cli("secrets", "sync", "--yes", "--json", expect=1)
    cli.fake.faults.clear()

    # 1. Nothing any command printed.
    for result in cli.results:
        assert not leaks(result.stdout), (result.argv, "stdout", leaks(result.stdout))
        assert not leaks(result.stderr), (result.argv, "stderr", leaks(result.stderr))
    # 2. No file anywhere under the test's directories (crash logs, temp files, caches) except the env
    #    file itself and pull's outputs, which are 0600.
    for path in tmp_path.rglob("*"):
        if not path.is_file() or path in (env_file, *pulled) or path.suffix == ".pyc":
            continue
        content = path.read_bytes().decode("utf-8", "replace")
        assert not leaks(content), (str(path), leaks(content))
    for path in pulled:
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert "CANARY-npm-2b6d4e8a" in path.read_text()  # pull did write the values, and only there
    # 3. No process was started with a value in its argv: the secrets commands start no process at all.
    audit = tmp_path / "audit.log"
    audit_text = audit.read_text() if audit.exists() else ""
    assert not leaks(audit_text)
    assert "subprocess.Popen" not in audit_text, audit_text
    # The values did reach Secret Manager, through the API only.
    name = f"projects/{PROJECT}/secrets/acme-staging-STRIPE_KEY"
    assert cli.fake.secrets.value(name) == b"CANARY-stripe-7f3a9b1c-rotated"
