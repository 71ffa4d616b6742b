"""The one boundary to Terraform: python-terraform builds the command lines, shipit runs them.

python-terraform's last release is from 2019 and predates Terraform 1.x. We keep its option model
(``init(backend_config=...)``, ``plan(...)``, ``apply(plan)``...) but route every command through
:func:`shipit.adapters.process.run` (argv only, live output, redaction) and check each argv against
what Terraform 1.11+ accepts (:func:`modernize`). What we found against terraform 1.11:

- ``destroy`` passes ``-force``, removed in 0.15: we never call it; a destroy is ``plan -destroy -out``
  followed by applying that file, so the destroy that runs is the one that was shown.
- its default ``var={}`` becomes ``-var-file=/tmp/....tfvars.json`` on every command: a file on disk
  and, with values, secrets in a temp file. We pass ``var=None`` and refuse ``-var``/``-var-file``:
  variables travel as ``TF_VAR_*`` environment variables only, never argv or disk.
- ``init`` passes ``-reconfigure`` by default, which silently starts from empty state when the
  backend changed. We turn it off and report the change instead.
- ``plan`` passes ``-detailed-exitcode`` (exit 2 = changes, not an error) and ``apply`` passes
  ``-auto-approve=false``, which 1.x still accepts with a saved plan.
- Terraform reads ``Tfstate`` after every command in python-terraform; we never read state files.

Only this module imports python_terraform; callers get shipit's frozen dataclasses.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shipit.adapters import process
from shipit.errors import RemoteError, ShipitError, ToolError
from shipit.output import REDACTOR

# 1.11: the generated module passes database passwords through write-only arguments, which keep them out
# of the state and plan files (developer.hashicorp.com/terraform/language/manage-sensitive-data/write-only).
MIN_VERSION = (1, 11)
INSTALL_HINT = (
    "install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install) "
    "or point SHIPIT_TERRAFORM at the binary"
)


class Runner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = ...,
        env: Mapping[str, str] | None = ...,
        check: bool = ...,
        on_line: Callable[[str], None] | None = ...,
        hint: str | None = ...,
    ) -> process.Result: ...


@dataclass(frozen=True)
class TerraformOptions:
    binary: str | None = None  # default: $SHIPIT_TERRAFORM, else `terraform` on PATH
    lock_timeout: str = "300s"
    parallelism: int | None = None


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str | None = None

    def render(self) -> str:
        head = f"{self.address}: {self.summary}" if self.address else self.summary
        detail = " ".join(self.detail.split())
        return f"{head}: {detail}" if detail else head


@dataclass(frozen=True)
class ResourceChange:
    address: str
    actions: tuple[str, ...]  # terraform's: ("create",), ("delete", "create"), ("no-op",), ...
    resource_type: str
    changed: tuple[str, ...] = ()  # top-level attributes that change (names only, never values)
    replace_paths: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class PlanSummary:
    path: Path
    resources: tuple[ResourceChange, ...]
    outputs: tuple[tuple[str, tuple[str, ...]], ...]  # (name, actions), values never kept
    destroy: bool = False


@dataclass(frozen=True)
class OutputValue:
    name: str
    sensitive: bool
    value: Any = field(default=None, repr=False)  # None when sensitive: the value is dropped


@dataclass(frozen=True)
class StateResource:
    """One managed resource instance in the state; attribute values are never kept (but deletion_protection)."""

    address: str  # the instance: module.app.google_sql_database_instance.db["main"]
    resource: str  # its configuration address, as depends_on names it: module.app.google_sql_database_instance.db
    resource_type: str
    depends_on: tuple[str, ...] = ()
    deletion_protection: bool = False


def state_resources(data: Mapping[str, Any]) -> tuple[StateResource, ...]:
    """`terraform show -json` (no plan file) -> the managed resources of the state, every module included."""
    found: list[StateResource] = []

    def walk(module: Mapping[str, Any]) -> None:
        prefix = f"{module['address']}." if module.get("address") else ""
        for res in module.get("resources") or []:
            if res.get("mode") != "managed":
                continue
            values = res.get("values") or {}
            found.append(
                StateResource(
                    address=str(res.get("address")),
                    resource=f"{prefix}{res.get('type')}.{res.get('name')}",
                    resource_type=str(res.get("type", "")),
                    depends_on=tuple(str(d) for d in res.get("depends_on") or ()),
                    deletion_protection=values.get("deletion_protection") is True,
                )
            )
        for child in module.get("child_modules") or []:
            walk(child)

    walk(((data.get("values") or {}).get("root_module")) or {})
    return tuple(found)


class TerraformFailed(ToolError):
    """terraform exited non-zero; ``diagnostics`` are its errors (resource address, provider message)."""

    def __init__(self, message: str, *, hint: str | None = None, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message, hint=hint)
        self.diagnostics = tuple(diagnostics)


class StateLocked(TerraformFailed):
    def __init__(self, message: str, *, hint: str | None, who: str | None, lock_id: str | None) -> None:
        super().__init__(message, hint=hint)
        self.who = who
        self.lock_id = lock_id


def modernize(argv: Sequence[str]) -> list[str]:
    """python-terraform's argv, made valid and safe for Terraform 1.x (see the module docstring)."""
    argv = list(argv)
    command = argv[1] if len(argv) > 1 else ""
    out: list[str] = argv[:2]
    for arg in argv[2:]:
        if arg.startswith(("-var=", "-var-file=")):
            raise ShipitError(
                f"refusing to pass variables on the terraform command line ({arg.split('=', 1)[0]})",
                hint="variables go through TF_VAR_* environment variables",
            )
        if arg == "-force" and command == "destroy":
            arg = "-auto-approve"  # -force was removed in Terraform 0.15
        out.append(arg)
    return out


def _wrapped_class() -> type[Any]:
    import python_terraform

    class Wrapped(python_terraform.Terraform):  # type: ignore[misc]
        """python-terraform with its process layer replaced by shipit's."""

        def __init__(self, binary: str, workdir: Path, execute: Callable[[list[str]], tuple[int, str, str]]) -> None:
            self._execute = execute
            super().__init__(working_dir=str(workdir), terraform_bin_path=binary)
            # Its default ({}) would become -var-file=<temp file> on every command.
            self.variables = None

        def read_state_file(self, file_path: str | None = None) -> None:
            # State holds secrets (database passwords); shipit never reads it.
            self.tfstate = None

        def cmd(self, cmd: str, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
            kwargs.pop("capture_output", None)
            kwargs.pop("raise_on_error", None)
            kwargs.pop("synchronous", None)
            argv = self.generate_cmd_string(cmd, *args, **kwargs)
            return self._execute(modernize(argv))

    return Wrapped


def find_binary(options: TerraformOptions) -> str:
    candidate = options.binary or os.environ.get("SHIPIT_TERRAFORM") or "terraform"
    if os.sep in candidate:
        if not os.access(candidate, os.X_OK):
            raise ToolError(f"terraform not found at {candidate}", hint=INSTALL_HINT)
        return candidate
    return process.which(candidate, hint=INSTALL_HINT)


class Terraform:
    """Terraform in one root module directory.

    ``variables`` become ``TF_VAR_<name>`` environment variables (secret or not: never argv).
    ``on_line`` receives terraform's output live, one human-readable line at a time.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        options: TerraformOptions = TerraformOptions(),
        variables: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
        runner: Runner = process.run,
    ) -> None:
        self.workdir = workdir
        self.options = options
        self.binary = find_binary(options)
        self._on_line = on_line or (lambda _line: None)
        self._runner = runner
        self._env: dict[str, str] = {
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            **(env or {}),
        }
        for name, value in (variables or {}).items():
            REDACTOR.register(value)
            self._env[f"TF_VAR_{name}"] = value
        self._tf = _wrapped_class()(self.binary, workdir, self._execute)
        self._mode = "text"
        self._diagnostics: list[Diagnostic] = []

    # ------------------------------------------------------------------ running

    def _execute(self, argv: list[str]) -> tuple[int, str, str]:
        self._diagnostics = []
        on_line = self._json_line if self._mode == "json" else self._on_line if self._mode == "text" else None
        result = self._runner(argv, cwd=self.workdir, env=self._env, check=False, on_line=on_line, hint=INSTALL_HINT)
        return result.returncode, result.stdout, result.stderr

    def _json_line(self, line: str) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            if line.strip():
                self._on_line(line)
            return
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if kind == "diagnostic":
            diag = event.get("diagnostic") or {}
            self._diagnostics.append(
                Diagnostic(
                    severity=str(diag.get("severity", "error")),
                    summary=str(diag.get("summary", "")),
                    detail=str(diag.get("detail", "")),
                    address=diag.get("address"),
                )
            )
        if kind in ("version", "outputs"):
            return  # outputs are read through `terraform output`, where sensitive ones are dropped
        message = event.get("@message")
        if isinstance(message, str) and message:
            self._on_line(message)

    def _call(self, mode: str, method: Callable[..., tuple[int, str, str]], *args: Any, **kwargs: Any) -> Any:
        self._mode = mode
        try:
            return method(*args, **kwargs)
        finally:
            self._mode = "text"

    # ------------------------------------------------------------------ commands

    def version(self) -> str:
        code, out, err = self._call("quiet", self._tf.cmd, "version", json=python_flag())
        if code != 0:
            raise ToolError(f"`{self.binary} version` failed: {(out + err).strip()[-300:]}", hint=INSTALL_HINT)
        try:
            version = str(json.loads(out)["terraform_version"])
            parts = tuple(int(p) for p in version.split("-")[0].split(".")[:2])
        except (ValueError, KeyError, TypeError):
            raise ToolError(f"cannot read the version of {self.binary}", hint=INSTALL_HINT) from None
        if parts < MIN_VERSION:
            raise ToolError(f"terraform {version} is too old: shipit needs >= 1.11", hint=INSTALL_HINT)
        return version

    def init(self) -> None:
        code, out, err = self._call(
            "text",
            self._tf.init,
            backend_config=None,
            reconfigure=python_flag(False),
            lock_timeout=self.options.lock_timeout,
        )
        if code != 0:
            raise classify("init", out + "\n" + err, [], self.workdir)

    def plan(self, out: Path, *, destroy: bool = False, targets: Sequence[str] = ()) -> bool:
        """Write a saved plan to ``out``; True when it changes anything. ``targets``: only these resource
        instances (and, destroying, what depends on them)."""
        kwargs: dict[str, Any] = {
            "out": str(out),
            "lock_timeout": self.options.lock_timeout,
            "json": python_flag(),
            "parallelism": self.options.parallelism,
        }
        if destroy:
            kwargs["destroy"] = python_flag()
        if targets:
            kwargs["target"] = list(targets)
        code, stdout, stderr = self._call("json", self._tf.plan, **kwargs)
        if code == 2:  # -detailed-exitcode: success with changes
            return True
        if code != 0:
            raise classify("plan", stdout + "\n" + stderr, self._diagnostics, self.workdir)
        return False

    def show_plan(self, path: Path, *, destroy: bool = False) -> PlanSummary:
        code, out, err = self._call(
            "quiet", self._tf.cmd, "show", str(path), json=python_flag(), no_color=python_flag()
        )
        if code != 0:
            raise classify("show", out + "\n" + err, [], self.workdir)
        return summarize_plan(json.loads(out), path, destroy=destroy)

    def state(self) -> tuple[StateResource, ...]:
        """The managed resources in the current state (after init); empty when there is no state yet."""
        code, out, err = self._call("quiet", self._tf.cmd, "show", json=python_flag(), no_color=python_flag())
        if code != 0:
            raise classify("show", out + "\n" + err, [], self.workdir)
        try:
            data = json.loads(out or "{}")
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise ToolError("`terraform show -json` printed something that is not its JSON state document")
        return state_resources(data)

    def apply(self, plan: Path) -> None:
        """Apply exactly the saved plan ``plan`` (Terraform refuses it if the state moved since)."""
        code, out, err = self._call(
            "json",
            self._tf.apply,
            str(plan),
            json=python_flag(),
            lock_timeout=self.options.lock_timeout,
            parallelism=self.options.parallelism,
        )
        if code != 0:
            raise classify("apply", out + "\n" + err, self._diagnostics, self.workdir)

    def outputs(self) -> dict[str, OutputValue]:
        """All outputs; sensitive values are registered for redaction and dropped here."""
        code, out, err = self._call("quiet", self._tf.cmd, "output", json=python_flag(), no_color=python_flag())
        if code != 0:
            raise classify("output", out + "\n" + err, [], self.workdir)
        try:
            data = json.loads(out or "{}")
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or not all(isinstance(entry, dict) for entry in data.values()):
            raise ToolError("`terraform output -json` printed something that is not its JSON outputs document")
        values: dict[str, OutputValue] = {}
        for name, entry in data.items():
            if entry.get("sensitive"):
                _register_all(entry.get("value"))
                values[name] = OutputValue(name, True)
            else:
                values[name] = OutputValue(name, False, entry.get("value"))
        return values


def python_flag(on: bool = True) -> Any:
    import python_terraform

    return python_terraform.IsFlagged if on else python_terraform.IsNotFlagged


def _register_all(value: Any) -> None:
    if isinstance(value, str):
        REDACTOR.register(value)
    elif isinstance(value, dict):
        for item in value.values():
            _register_all(item)
    elif isinstance(value, list):
        for item in value:
            _register_all(item)


# ---------------------------------------------------------------------- plan summary


def _changed_attributes(before: Any, after: Any, unknown: Any) -> tuple[str, ...]:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    names = set(before) | set(after) | (set(unknown) if isinstance(unknown, dict) else set())
    changed = [
        n
        for n in sorted(names)
        if before.get(n) != after.get(n) or (isinstance(unknown, dict) and unknown.get(n) not in (None, False))
    ]
    return tuple(changed)


def summarize_plan(data: Mapping[str, Any], path: Path, *, destroy: bool = False) -> PlanSummary:
    """`terraform show -json PLAN` -> what changes, per resource. Values are never kept."""
    resources = []
    for rc in data.get("resource_changes") or []:
        if rc.get("mode") == "data":
            continue
        change = rc.get("change") or {}
        actions = tuple(change.get("actions") or ("no-op",))
        changed: tuple[str, ...] = ()
        if "update" in actions or ("delete" in actions and "create" in actions):
            changed = _changed_attributes(change.get("before"), change.get("after"), change.get("after_unknown"))
        replace_paths = tuple(
            ".".join(str(p) for p in path_) for path_ in (change.get("replace_paths") or []) if isinstance(path_, list)
        )
        resources.append(
            ResourceChange(
                address=str(rc.get("address")),
                actions=actions,
                resource_type=str(rc.get("type", "")),
                changed=changed,
                replace_paths=replace_paths,
                reason=rc.get("action_reason"),
            )
        )
    outputs = tuple(
        (name, tuple(oc.get("actions") or ("no-op",)))
        for name, oc in sorted((data.get("output_changes") or {}).items())
    )
    return PlanSummary(path=path, resources=tuple(resources), outputs=outputs, destroy=destroy)


# ---------------------------------------------------------------------- errors

_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created):\s*(.*?)\s*$", re.MULTILINE)
_BUCKET_MISSING = re.compile(
    r"bucket doesn't exist|specified bucket does not exist|bucket .* does not exist|storage: bucket doesn't exist",
    re.IGNORECASE,
)
_AUTH = re.compile(
    r"could not find default credentials|no credentials loaded|oauth2: cannot fetch token|invalid_grant|"
    r"reauthentication|Error 401|UNAUTHENTICATED|invalid authentication credentials|"
    r"Attempted to load application default credentials",
    re.IGNORECASE,
)
_AUTH_HINT = (
    "run `gcloud auth application-default login`, or set GOOGLE_OAUTH_ACCESS_TOKEN / CLOUDSDK_AUTH_ACCESS_TOKEN"
)


def _strip(text: str) -> str:
    return REDACTOR.redact(re.sub(r"\x1b\[[0-9;]*m", "", text))


def _tail(text: str, lines: int = 15) -> str:
    kept = [
        line
        for line in _strip(text).splitlines()
        if line.strip() and "CLI configuration" not in line and line.strip() not in ("╷", "╵", "│")
    ]
    return "\n".join(kept[-lines:])


def classify(command: str, output: str, diagnostics: Sequence[Diagnostic], workdir: Path) -> ShipitError:
    """Turn a failed terraform command into the error a user can act on."""
    errors = [d for d in diagnostics if d.severity == "error"]
    text = _strip(output + "\n" + "\n".join(f"{d.summary}\n{d.detail}" for d in errors))
    if "Error acquiring the state lock" in text:
        fields = dict(_LOCK_FIELD.findall(text))
        who, lock_id = fields.get("Who") or "someone", fields.get("ID")
        operation = (fields.get("Operation") or "").replace("OperationType", "").lower() or "an operation"
        since = f" since {fields['Created']}" if fields.get("Created") else ""
        hint = "wait for it to finish"
        if lock_id:
            hint += f"; if that run died, `terraform -chdir={workdir} force-unlock {lock_id}`"
        return StateLocked(
            f"the Terraform state is locked by {who} ({operation}{since})", hint=hint, who=who, lock_id=lock_id
        )
    if _BUCKET_MISSING.search(text):
        bucket = re.search(r'bucket\s*=\s*"([^"]+)"', _read(workdir / "main.tf"))
        name = bucket.group(1) if bucket else "the state bucket"
        return RemoteError(f"the state bucket {name} does not exist", hint="run `shipit infra bootstrap`")
    if _AUTH.search(text):
        first = next((line for line in text.splitlines() if _AUTH.search(line)), "")
        return RemoteError(f"terraform could not authenticate to Google Cloud: {first.strip()}", hint=_AUTH_HINT)
    if "Backend configuration changed" in text or "Backend initialization required" in text:
        return TerraformFailed(
            f"the backend of {workdir} changed since the last `terraform init`",
            hint=f"to move the state, run `terraform -chdir={workdir} init -migrate-state`",
        )
    if "Saved plan is stale" in text:
        return TerraformFailed(
            "the saved plan is stale: the state changed after it was made", hint="plan again and review it"
        )
    if errors:
        lines = [d.render() for d in errors]
        failed = sorted({d.address for d in errors if d.address})
        where = f" ({', '.join(failed)})" if failed else ""
        return TerraformFailed(
            f"terraform {command} failed{where}:\n" + "\n".join(f"  {line}" for line in lines),
            diagnostics=errors,
        )
    return TerraformFailed(f"terraform {command} failed:\n{_tail(output)}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


# Builds the Terraform of one working directory, streaming its output lines to a callback.
TerraformFactory = Callable[[Path, Callable[[str], None]], Terraform]


def default_terraform(options: TerraformOptions = TerraformOptions()) -> TerraformFactory:
    def make(workdir: Path, on_line: Callable[[str], None]) -> Terraform:
        env: dict[str, str] = {}
        # shipit's static-token convention, in the variable the Google provider and GCS backend read.
        from shipit.adapters.gcp.auth import static_token
        from shipit.output import REDACTOR

        # Stripped and validated like every other use of it; the provider's own variable is masked too.
        token = static_token()
        REDACTOR.register(os.environ.get("GOOGLE_OAUTH_ACCESS_TOKEN"))
        if token and not os.environ.get("GOOGLE_OAUTH_ACCESS_TOKEN"):
            env["GOOGLE_OAUTH_ACCESS_TOKEN"] = token
        return Terraform(workdir, options=options, env=env, on_line=on_line)

    return make
