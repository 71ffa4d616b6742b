"""Canary over every command: distinctive secret values (multi-line PEM, JSON, base64, regex metacharacters)
in the env file and an access token with a trailing newline, then every shipit command in -v and --json
(plus a crash, whose log is written to disk). No form of any canary may appear in stdout, stderr, the crash
log, any file under the project (.shipit/, generated Terraform, CI files, Dockerfiles, compose files) or
the state directory, nor in the argv of any process shipit started."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from secrets_cli_support import PROJECT, Cli, Result

from fakegcp import FakeGCP
from fakegcp.server import FakeGCPServer

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQCANARYpemLineOne7a1f0c4dQEFAASCBKcwggSjAgEAAoIBAQ\n"
    "CANARYpemLineTwo9e8fB3kq0h2Lr5Yw+/xZt1==\n"
    "-----END PRIVATE KEY-----"
)
CANARIES = {
    "STRIPE_KEY": "CANARY.*+?[](){}|^$\\d-regex-7f3a9b1c",
    "DB_PASSWORD": "CANARY pass with spaces 55e1",
    "SA_JSON": json.dumps({"type": "service_account", "private_key": PEM, "note": 'CANARY"quoted"-0c4d'}),
    "B64_BLOB": base64.b64encode(b"CANARY-binary-blob-2b6d4e8a\x00\xff").decode(),
    "NPM_TOKEN": "CANARY-npm-token-91ab\n",
}
TOKEN = "ya29.CANARYaccessTOKEN-5e1f7d"
DIGEST = "sha256:" + "a" * 64
CONFIG = f"""\
version: 1
app: acme
environments:
  staging: {{project: {PROJECT}, region: us-central1}}
secrets: {{extra: [B64_BLOB]}}
services:
  api:
    image: "us-docker.pkg.dev/acme/base/api@{DIGEST}"
    secrets: [STRIPE_KEY, DB_PASSWORD]
    secret_files: {{/secrets/sa.json: SA_JSON}}
  worker:
    build: {{context: ., secrets: [NPM_TOKEN]}}
jobs:
  cleanup: {{service: api, args: [cleanup], secrets: [STRIPE_KEY]}}
"""


def _forms(value: str) -> set[str]:
    """Every way a value could show up: raw, stripped, its longer lines, escaped, encoded, decoded."""
    forms = {value, value.strip()}
    forms.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 12)
    for text in (value, value.strip()):
        forms.add(json.dumps(text)[1:-1])
        forms.add(repr(text)[1:-1])
        data = text.encode()
        forms.add(base64.b64encode(data).decode().rstrip("="))
        forms.add(base64.urlsafe_b64encode(data).decode().rstrip("="))
    with contextlib.suppress(ValueError):
        forms.add(base64.b64decode(value, validate=True).decode("latin-1"))
    return {f for f in forms if len(f) >= 12 and "-----" not in f}


NEEDLES = sorted(
    set().union(*(_forms(v) for v in CANARIES.values()), _forms(TOKEN), _forms("oauth2accesstoken:" + TOKEN))
    # Distinctive fragments too: a value cut or wrapped by some tool still shows these.
    | {"7f3a9b1c", "7a1f0c4d", "9e8fB3kq", "2b6d4e8a", "5e1f7d"},
    key=len,
)


def leaks(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text]


def _env_text() -> str:
    lines = []
    for key, value in CANARIES.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + "\n"


# Every command of the CLI with arguments that get it past option parsing; each runs with --json -v.
COMMANDS: dict[str, tuple[str, ...]] = {
    "build": ("build", "--dry-run"),
    "ci generate": ("ci", "generate", "--provider", "github"),
    "config show": ("config", "show"),
    "deploy": ("deploy", "--yes"),
    # A dry run: the commands after it still need what deploy made. It reads every secret's labels.
    "destroy": ("destroy", "--dry-run", "--images", "--include-data"),
    "dockerfile": ("dockerfile", "worker", "--kind", "python", "--force"),
    "doctor": ("doctor",),
    "infra apply": ("infra", "apply", "--yes"),
    "infra bootstrap": ("infra", "bootstrap", "--dry-run"),
    "infra destroy": ("infra", "destroy"),
    "infra generate": ("infra", "generate", "--force"),
    "infra output": ("infra", "output"),
    "infra plan": ("infra", "plan"),
    "init": ("init",),
    "jobs list": ("jobs", "list"),
    "jobs run": ("jobs", "run", "cleanup", "--wait", "--yes"),
    "local down": ("local", "down"),
    "logs": ("logs",),
    "local exec": ("local", "exec", "api", "env"),
    "local export": ("local", "export"),
    "local logs": ("local", "logs"),
    "local ps": ("local", "ps"),
    "local up": ("local", "up", "--no-build"),
    "plan": ("plan",),
    "preview delete": ("preview", "delete", "pr-1", "--yes"),
    "preview list": ("preview", "list"),
    "promote": ("promote", "--yes"),
    "push": ("push",),
    "rollback": ("rollback", "--yes"),
    "schema": ("schema",),
    "secrets diff": ("secrets", "diff"),
    "secrets list": ("secrets", "list"),
    "secrets pull": ("secrets", "pull", "--output", "pulled.env", "--force"),
    "secrets sync": ("secrets", "sync", "--yes"),
    "services deploy": ("services", "deploy", "api", "--yes"),
    "status": ("status",),
    "validate": ("validate",),
}
# And in human mode (-v), the commands whose stdout shows plans, tables or generated files.
HUMAN_RUNS: tuple[tuple[str, ...], ...] = (
    ("plan",),
    ("plan", "--offline"),
    ("deploy", "--dry-run"),
    ("deploy", "--yes"),
    ("destroy", "--dry-run", "--images"),
    ("deploy", "--preview", "pr-1", "--yes", "--image", "api=us-docker.pkg.dev/acme/base/api@sha256:" + "b" * 64),
    ("preview", "list"),
    ("preview", "delete", "pr-1", "--yes"),
    ("services", "deploy", "api", "--yes"),
    ("status",),
    ("logs",),
    ("config", "show"),
    ("ci", "generate", "--stdout"),
    ("dockerfile", "worker", "--kind", "python", "--dry-run"),
    ("local", "export"),
    ("secrets", "diff"),
    ("secrets", "list"),
    ("secrets", "sync", "--dry-run"),
    ("infra", "generate", "--force"),
)
# Starts shipit with one deliberate bug: an exception whose message carries every secret value, raised
# after the env file was read, as a careless `raise ValueError(f"bad {value}")` somewhere would.
CRASH_WRAPPER = """\
import sys
from shipit.steps import secrets

_plan = secrets.plan

def plan(ctx, **kw):
    result = _plan(ctx, **kw)
    raise RuntimeError("bug with " + " ".join(ctx.target.path(".env").read_text().split("\\n")))

secrets.plan = plan
from shipit.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


# Records the argv (what `ps` shows) of every process shipit starts; the environment a child inherits is
# not argv, and CLOUDSDK_AUTH_ACCESS_TOKEN is meant to be inherited.
AUDIT_HOOK = """\
import os, sys
_log = os.environ.get("SHIPIT_TEST_AUDIT_LOG")
if _log:
    def _hook(event, args):
        if event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"):
            with open(_log, "a") as fh:
                fh.write(event + " " + repr(args[1]) + "\\n")
        elif event == "os.system":
            with open(_log, "a") as fh:
                fh.write(event + " " + repr(args[0]) + "\\n")
    sys.addaudithook(_hook)
"""


def _all_commands() -> set[str]:
    from shipit.cli.main import cli

    found: set[str] = set()

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(click.Context(command)):
                sub = command.get_command(click.Context(command), name)
                assert sub is not None
                walk(sub, (*path, name))
        else:
            found.add(" ".join(path))

    walk(cli, ())
    return found


def test_every_command_is_in_the_canary_run() -> None:
    assert _all_commands() == set(COMMANDS)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    root = tmp_path / "app"
    root.mkdir()
    (root / "shipit.yaml").write_text(CONFIG)
    (root / ".env").write_text(_env_text())
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT_HOOK)
    fake = FakeGCP()
    with FakeGCPServer(fake) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_", "DOCKER_"))}
        env.update(
            CLOUDSDK_AUTH_ACCESS_TOKEN=TOKEN + "\n",  # as pasted into a CI secret
            CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING=url,
            CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN=url,
            DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock",  # every Docker call fails fast
            XDG_STATE_HOME=str(tmp_path / "state"),
            SHIPIT_TEST_AUDIT_LOG=str(tmp_path / "audit.log"),
            PYTHONPATH=os.pathsep.join([str(hooks), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            NO_COLOR="1",
        )
        yield Cli(root, fake, env)


def _crash(cli: Cli, *args: str) -> Result:
    wrapper = cli.root.parent / "crash_wrapper.py"
    wrapper.write_text(CRASH_WRAPPER)
    proc = subprocess.run(
        (sys.executable, str(wrapper), *args), cwd=cli.root, env=cli.env, capture_output=True, text=True, timeout=120
    )
    result = Result(("crash", *args), proc.returncode, proc.stdout, proc.stderr)
    cli.results.append(result)
    return result


def test_no_canary_form_leaks_from_any_command(cli: Cli, tmp_path: Path) -> None:
    cli("secrets", "sync", "--yes")  # the values exist remotely, so later commands read them back
    cli("deploy", "--only", "jobs", "--yes")  # so `jobs run` runs a job pinned to the canary's version
    # A service that logs a secret: `shipit logs` must mask it.
    cli.fake.logging.add(
        [
            {
                "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstdout",
                "resource": {
                    "type": "cloud_run_revision",
                    "labels": {"service_name": "api", "location": "us-central1"},
                },
                "textPayload": f"charging with {value}",
            }
            for value in CANARIES.values()
        ]
    )
    for argv in COMMANDS.values():
        cli("--json", "-v", *argv, expect=None)  # JSON on stdout, verbose human text on stderr
    for argv in HUMAN_RUNS:
        cli("-v", *argv, expect=None)
    crashed = _crash(cli, "secrets", "diff")
    crashed_verbose = _crash(cli, "-v", "secrets", "diff")

    # The runs did what they must for the test to mean something.
    assert crashed.returncode == 1 and "traceback written to" in crashed.stderr, crashed.stderr
    assert "Traceback" in crashed_verbose.stderr
    crash_logs = list((tmp_path / "state").rglob("crash-*.log"))
    assert crash_logs
    for result in cli.results:
        assert "No such option" not in result.stderr and "Usage:" not in result.stderr, result
    assert (cli.root / "infra").is_dir() and (cli.root / ".github").is_dir()
    logged = next(r for r in cli.results if r.argv[-1] == "logs" and "--json" in r.argv)
    assert logged.returncode == 0 and len(logged.stdout.splitlines()) == len(CANARIES), logged
    ran = next(r for r in cli.results if "run" in r.argv and "cleanup" in r.argv)
    assert ran.returncode == 0, ran
    sid = f"projects/{PROJECT}/secrets/acme-staging-STRIPE_KEY"
    assert cli.fake.secrets.value(sid) == CANARIES["STRIPE_KEY"].encode()

    # 1. Nothing any command printed.
    for result in cli.results:
        assert not leaks(result.stdout), (result.argv, "stdout", leaks(result.stdout))
        assert not leaks(result.stderr), (result.argv, "stderr", leaks(result.stderr))
    # 2. No file: the project (.shipit/, infra/, CI files, Dockerfiles), the state directory (crash logs).
    pulled = cli.root / "pulled.env"
    for path in tmp_path.rglob("*"):
        if not path.is_file() or path in (cli.root / ".env", pulled) or path.suffix == ".pyc":
            continue
        content = path.read_bytes().decode("latin-1")
        assert not leaks(content), (str(path), leaks(content))
    assert "CANARY-npm-token-91ab" in pulled.read_text()  # pull wrote the values, and only there
    # 3. No process started with a value in its argv (docker, terraform, git...).
    audit = (tmp_path / "audit.log").read_text()
    assert "subprocess.Popen" in audit  # processes were started (git at least), and recorded
    assert not leaks(audit), leaks(audit)


# preview.database: branch reads the base DATABASE_URL (a password in it) to write the preview's own.
DB_PASSWORD_IN_URL = "CANARY-db-url-pass-3c9e71"
BRANCH_CONFIG = f"""\
version: 1
app: acme
environments:
  staging: {{project: {PROJECT}, region: us-central1, preview: {{database: branch}}}}
databases:
  main:
    migrate: {{command: [migrate], service: api, timeout: 60}}
services:
  api:
    image: "us-docker.pkg.dev/acme/base/api@{DIGEST}"
    databases: [main]
"""


def test_a_branch_preview_never_shows_the_base_database_url(cli: Cli, tmp_path: Path) -> None:
    from shipit.config.loader import load_config
    from shipit.config.target import resolve_target
    from shipit.results import InfraResult
    from shipit.state import write_result

    (cli.root / "shipit.yaml").write_text(BRANCH_CONFIG)
    target = resolve_target(load_config(cli.root / "shipit.yaml", "shipit.yaml"), "staging")
    outputs = {"connection_name": f"{PROJECT}:us-central1:acme-main", "url_secret": "acme-staging-DATABASE_URL"}
    write_result(target, InfraResult({"databases": {"main": outputs}}))
    url = f"postgresql://app:{DB_PASSWORD_IN_URL}@10.20.0.3:5432/main"
    cli.fake.secrets.seed(PROJECT, "acme-staging-DATABASE_URL", url)
    cli.fake.sql.add_instance(PROJECT, "acme-main", ("main",))
    cli("services", "deploy", "--yes", "--image", f"api=us-docker.pkg.dev/acme/base/api@{DIGEST}")
    image = "api=us-docker.pkg.dev/acme/base/api@sha256:" + "b" * 64
    for mode in (("--json", "-v"), ("-v",)):
        cli(*mode, "deploy", "--preview", "pr-1", "--dry-run", "--image", image)
        cli(*mode, "deploy", "--preview", "pr-1", "--yes", "--image", image)
        cli(*mode, "preview", "list")
        cli(*mode, "preview", "delete", "pr-1", "--yes")
    assert cli.fake.sql.databases(PROJECT, "acme-main") == ["main"]  # made, then dropped: the runs happened
    assert any("secrets/acme-staging-preview-pr-1-DATABASE_URL" in c.path for c in cli.fake.calls)
    for result in cli.results:
        for text in (result.stdout, result.stderr):
            assert DB_PASSWORD_IN_URL not in text, (result.argv, text)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".pyc":
            assert DB_PASSWORD_IN_URL not in path.read_bytes().decode("latin-1"), str(path)
    assert DB_PASSWORD_IN_URL not in (tmp_path / "audit.log").read_text()
