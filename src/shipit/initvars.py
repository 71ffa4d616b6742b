"""How `shipit init` maps one compose environment variable: a plain value, a secret (the key only), a
`${services.X.url}` / `${databases.X.*}` / `${environment.project}` reference, a local-only value, or a drop
(emulator wiring shipit sets itself, a URL of an engine shipit does not run), each with its report row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shipit.config.database_engines import engine
from shipit.initcaches import CacheRules
from shipit.initcompose import ComposeProject, env_of, interpolate
from shipit.initmodel import SECRET_WORDS, DetectedService, Detection
from shipit.initroles import Role

LOCAL_URL = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/]*@)?(localhost|127\.0\.0\.1|0\.0\.0\.0|host\.docker\.internal)(?::(?P<port>\d+))?(?P<rest>/.*)?$",
    re.I,
)
HTTP_URL = re.compile(r"^(?P<scheme>https?|wss?)://(?P<host>[A-Za-z0-9_.-]+)(?::(?P<port>\d+))?(?P<rest>/.*)?$")
_ANY_URL = re.compile(
    r"^(?P<jdbc>jdbc:)?[a-z][a-z0-9+.-]*://(?:(?P<cred>[^@/]*)@)?(?P<host>[A-Za-z0-9_.-]+)(?::\d+)?", re.I
)
_PROJECT_VARS = {
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "GCP_PROJECT",
    "GCP_PROJECT_ID",
    "PUBSUB_PROJECT_ID",
    "PROJECT_ID",
    "GOOGLE_PROJECT_ID",
    "GOOGLE_CLOUD_PROJECT_ID",
}
# Set by shipit locally (emulator wiring) and needless in the cloud.
_EMULATOR_VARS = {"PUBSUB_EMULATOR_HOST", "DATASTORE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"}
_DB_PARTS = {"HOST": "host", "PORT": "port", "NAME": "name", "USER": "user", "DATABASE": "name", "DB": "name"}


def _service_url(name: str, rest: str) -> str:
    path = rest.rstrip("/")
    return "${services." + name + ".url}" + path


class VariableRules(CacheRules):
    """Mixed into the compose mapper: the state it shares is declared here."""

    root: Path
    project: ComposeProject
    detection: Detection
    note: Callable[[str, str, str], None]
    names: dict[str, str]
    roles: dict[str, Role]
    db_keys: dict[str, str]
    env_var_of: dict[str, str]
    browser_facing: set[str]
    host_ports: dict[int, str]
    plain: dict[str, list[str]]
    edges: dict[str, set[str]]

    def _topic(self, topic: str, where: str) -> None:
        if not re.fullmatch(r"(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}", topic):
            self.note("dropped", f"pubsub.topics.{topic}", f"from {where}: not a valid Pub/Sub topic name")
            return
        if topic not in self.detection.topics:
            self.detection.topics.append(topic)
            self.note("mapped", f"pubsub.topics.{topic}", f"from {where}")

    def _subscription(self, sub: str, topic: str | None) -> None:
        if not re.fullmatch(r"(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}", sub) or sub in self.detection.subscriptions:
            return
        topics = self.detection.topics
        topic = (
            topic or next((t for t in topics if sub.startswith(t)), None) or (topics[0] if len(topics) == 1 else None)
        )
        if topic is None:
            self.note(
                "decide", f"pubsub.subscriptions.{sub}", "which topic it reads: add it under pubsub.subscriptions"
            )
            return
        self.detection.subscriptions[sub] = topic
        self.note("mapped", f"pubsub.subscriptions.{sub}", f"pull subscription on topic {topic}")

    # ----------------------------------------------------------------------------------- apps

    def _environment(self, name: str, svc: dict[str, Any], out: DetectedService) -> None:
        for key, value in env_of(svc).items():
            self._variable(name, out, key, value, source="environment")

    def _env_files(self, svc: dict[str, Any], out: DetectedService) -> None:
        env_file = svc.get("env_file")
        if env_file is None:
            return
        from shipit.envfile import read_env_file

        for item in env_file if isinstance(env_file, list) else [env_file]:
            path = str(item.get("path", "")) if isinstance(item, dict) else str(item)
            parsed = read_env_file(self.root / path, path)
            if not parsed.exists:
                self.note("dropped", f"services.{out.name}.env_file", f"{path} does not exist")
                continue
            for key, value in parsed.values.items():
                known = (*out.env, *out.secrets, *out.local_env, *out.secret_files.values())
                if key not in known:
                    self._variable(None, out, key, value, source=path, from_file=True)

    def _variable(
        self,
        compose_name: str | None,
        out: DetectedService,
        key: str,
        value: str | None,
        *,
        source: str,
        from_file: bool = False,
    ) -> None:
        subject = f"services.{out.name}.env.{key}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            self.note("dropped", subject, "not a valid variable name")
            return
        if key in _EMULATOR_VARS:
            self.note("dropped", subject, "emulator wiring: `shipit local` sets it, the cloud needs none")
            return
        if value is None or re.fullmatch(r"\$\{?[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}?", value or ""):
            self._from_outside(out, key, value, source)
            return
        if "$" in value and not from_file:
            names = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", value.replace("$$", "")))
            if names & set(self.project.dotenv):
                # Built from .env values: those stay in .env, so the whole value is a secret.
                self._secret(out, key, f"its value uses {', '.join(sorted(names))} from .env: declared as a secret")
                if key not in self.project.dotenv:
                    self.note("decide", f"services.{out.name}.secrets.{key}", f"add {key} (its full value) to .env")
                return
            value = interpolate(value, {})  # compose defaults only
        if self.cache_variable(out, key, value):
            return
        db = self._database_of(value)
        if db is not None:
            self._database_variable(out, key, value, db)
            return
        if key in _PROJECT_VARS and self._local_project(value):
            out.env[key] = "${environment.project}"
            self.note("mapped", subject, f"local project id '{value}' -> ${{environment.project}}")
            return
        if key.endswith(("TOPIC", "TOPIC_ID", "TOPIC_NAME")) and (self.detection.pubsub or "PUBSUB" in key):
            self._topic(value, f"{out.name}'s {key}")
        if key.endswith(("SUBSCRIPTION", "SUBSCRIPTION_ID", "SUBSCRIPTION_NAME")) and self.detection.pubsub:
            self._subscription(value, None)
        a_path = value.startswith("/") and " " not in value  # e.g. DB_PASSWORD_FILE: /run/secrets/db
        if (SECRET_WORDS.search(key) and not a_path) or self._has_credentials(value):
            self._secret(
                out,
                key,
                f"{'in ' + source if from_file else 'a secret-looking variable'}: declared as a secret "
                "(key only; the value stays out of shipit.yaml)",
            )
            return
        local = LOCAL_URL.match(value)
        if local:
            self._localhost(out, key, value, local)
            return
        url = HTTP_URL.match(value)
        host = url.group("host") if url else None
        if url and host in self.roles:
            self._compose_url(out, key, value, url)
            return
        any_url = _ANY_URL.match(value)
        if any_url and any_url.group("host") in self.roles:
            target = any_url.group("host")
            self.note(
                "dropped",
                subject,
                f"points at '{target}', which is not deployed ({self._what(target)}): set the cloud value as a secret",
            )
            self.note("decide", subject, f"the cloud address of {self._what(target)}")
            return
        if from_file:
            self._secret(out, key, f"from {source}: declared as a secret (key only; the value stays in {source})")
            return
        out.env[key] = value
        self.plain.setdefault(out.name, []).append(key)

    def _what(self, compose_name: str) -> str:
        role = self.roles.get(compose_name)
        return role.label or role.what if role else compose_name

    def _secret(self, out: DetectedService, key: str, detail: str) -> None:
        if key not in out.secrets:
            out.secrets.append(key)
            self.note("mapped", f"services.{out.name}.secrets.{key}", detail)

    def _from_outside(self, out: DetectedService, key: str, value: str | None, source: str) -> None:
        """`KEY` or `KEY: ${VAR}`: the value comes from the shell or .env, so it stays there."""
        match = re.search(r"[A-Za-z_][A-Za-z0-9_]*", (value or key).lstrip("${"))
        var = match.group(0) if match else key
        default = re.search(r":?-([^}]*)\}", value or "")
        if var not in self.project.dotenv and default and not SECRET_WORDS.search(key):
            self._variable(None, out, key, default.group(1), source="a compose default")
            return
        self._secret(
            out,
            key,
            f"value from {'.env' if var in self.project.dotenv else 'the shell'} (${{{var}}}): "
            "declared as a secret, key only",
        )
        if var != key and key not in self.project.dotenv:
            self.note(
                "decide",
                f"services.{out.name}.secrets.{key}",
                f"shipit reads secret values by the service's name: add {key} to .env (compose read {var})",
            )

    def _local_project(self, value: str) -> bool:
        return bool(re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", value))

    def _has_credentials(self, value: str) -> bool:
        match = _ANY_URL.match(value)
        return bool(match and match.group("cred") and ":" in match.group("cred"))

    def _localhost(self, out: DetectedService, key: str, value: str, match: re.Match[str]) -> None:
        subject = f"services.{out.name}.env.{key}"
        out.local_env[key] = value
        port = int(match.group("port")) if match.group("port") else None
        target = self.host_ports.get(port) if port is not None else None
        cycle = bool(target) and self._reaches(self.names[target or ""], out.name)
        if target and self.names[target] != out.name and self.roles[target].what == "app" and not cycle:
            rest = match.group("rest") or ""
            out.env[key] = _service_url(self.names[target], rest)
            self.edges.setdefault(out.name, set()).add(self.names[target])
            self.browser_facing.add(target)
            self.note(
                "guessed",
                subject,
                f"{value} is {target}'s published port: the cloud gets {out.env[key]}; local.env keeps {value}",
            )
            return
        self.note("mapped", f"services.{out.name}.local.env.{key}", f"{value} only makes sense locally")
        self.note("decide", subject, f"the cloud value for {key} (locally {value})")

    def _compose_url(self, out: DetectedService, key: str, value: str, match: re.Match[str]) -> None:
        subject = f"services.{out.name}.env.{key}"
        host = match.group("host")
        role = self.roles[host]
        if role.what == "pubsub":
            self.note("dropped", subject, "the emulator's address: `shipit local` wires the emulator")
            return
        if role.what != "app":
            self.note(
                "dropped",
                subject,
                f"points at {self._what(host)} ({host}), which is not deployed: set the cloud value as a secret",
            )
            self.note("decide", subject, f"the cloud address of {self._what(host)}")
            return
        if self.names[host] == out.name:
            out.local_env[key] = value
            self.note("mapped", f"services.{out.name}.local.env.{key}", f"{value} names the service itself: local only")
            return
        if self._reaches(self.names[host], out.name):
            out.local_env[key] = value
            self.note(
                "decide",
                subject,
                f"{value}: {self.names[host]} already needs {out.name}'s URL, and Cloud Run services cannot learn "
                "each other's URLs in a cycle: pass this one another way",
            )
            return
        rest = match.group("rest") or ""
        out.env[key] = _service_url(self.names[host], rest)
        self.edges.setdefault(out.name, set()).add(self.names[host])
        self.note(
            "mapped",
            subject,
            f"{value} -> ${{services.{self.names[host]}.url}}{rest.rstrip('/') if rest != '/' else ''}",
        )

    def _reaches(self, start: str, goal: str) -> bool:
        """Whether ``start`` already depends (through ${services.X.url} values) on ``goal``'s URL."""
        seen, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(self.edges.get(node, ()))
        return False

    # ----------------------------------------------------------------------------- databases
    def _database_of(self, value: str) -> str | None:
        match = _ANY_URL.match(value)
        if match and match.group("host") in self.db_keys:
            return self.db_keys[match.group("host")]
        if value in self.db_keys:
            return self.db_keys[value]
        return None

    def _database_variable(self, out: DetectedService, key: str, value: str, db: str) -> None:
        subject = f"services.{out.name}.env.{key}"
        if db not in out.databases:
            out.databases.append(db)
        url = _ANY_URL.match(value)
        if url and url.group("jdbc"):
            name = self.detection.databases[db]
            spec = engine(name.engine)
            out.env[key] = f"jdbc:{spec.jdbc}://${{databases.{db}.host}}:{spec.port}/${{databases.{db}.name}}"
            self.note(
                "mapped", subject, f"a JDBC URL of the compose database -> {out.env[key]} (user {name.user or 'app'})"
            )
            return
        if url:
            self.env_var_of.setdefault(db, key)
            if self.env_var_of[db] != key:
                self.note(
                    "decide",
                    subject,
                    f"the URL of database {db} is also given as {self.env_var_of[db]}: "
                    "shipit sets one variable per database",
                )
                return
            self.note(
                "dropped",
                subject,
                f"points at the compose database: shipit injects {key} for database {db} "
                "(Cloud SQL in the cloud, a container locally)",
            )
            return
        part = next((attr for suffix, attr in _DB_PARTS.items() if key.endswith(suffix)), "host")
        out.env[key] = "${databases." + db + "." + part + "}"
        self.note("mapped", subject, f"{value} -> ${{databases.{db}.{part}}}")
