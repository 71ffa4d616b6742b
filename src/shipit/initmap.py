"""Map a compose project onto shipit.yaml's model, recording every mapping, guess and drop as a Finding.

Rules, per compose service:
- Postgres (any image whose name is postgres/postgis/timescale) -> a Cloud SQL database, its version
  brought to the nearest one Cloud SQL offers; other engines (MySQL, Redis, ...) are reported by name.
- The Pub/Sub emulator -> the `pubsub:` section, with the topics and subscriptions the other services name.
- Anything else with `build:` or `image:` -> a service; one with no published, exposed or referenced port,
  no HTTP healthcheck -> a worker.
Per variable: compose host names in URLs become `${services.NAME.url}`; values that only make sense on a
laptop (emulator hosts, localhost URLs) go to `local.env`; local project ids become `${environment.project}`;
anything that looks secret, or whose value comes from .env, is declared as a secret (the key only).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit.init import (
    _SECRET_WORDS,
    DetectedDatabase,
    DetectedService,
    Detection,
    detect_kind,
    service_name,
)
from shipit.initcompose import ComposeProject, dockerfile_stages, interpolate, load_compose

SUPPORTED_POSTGRES = (13, 14, 15, 16, 17)
DEFAULT_POSTGRES = "16"
_POSTGRES_IMAGES = re.compile(r"(^|/)(postgres|postgresql|postgis|timescaledb[\w-]*|pgvector)(:|$)")
_PUBSUB_IMAGES = re.compile(r"pubsub-emulator|pubsub_emulator|gcloud-pubsub")
_GCLOUD_IMAGES = re.compile(r"google-cloud-cli|cloud-sdk|cloudsdktool")
# Engines shipit does not run (yet): image name pattern -> what it is.
_ENGINES = {
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "redis": "Redis",
    "valkey": "Valkey",
    "memcached": "Memcached",
    "mongo": "MongoDB",
    "rabbitmq": "RabbitMQ",
    "elasticsearch": "Elasticsearch",
    "opensearch": "OpenSearch",
    "kafka": "Kafka",
    "zookeeper": "ZooKeeper",
    "nats": "NATS",
    "minio": "MinIO",
    "localstack": "LocalStack",
    "clickhouse": "ClickHouse",
    "cassandra": "Cassandra",
    "neo4j": "Neo4j",
    "firestore": "the Firestore emulator",
    "datastore": "the Datastore emulator",
}
_ENGINE_HINTS = {
    "MySQL": "Cloud SQL for MySQL is not mapped by shipit yet: create it yourself and declare its URL as a secret",
    "MariaDB": "use Cloud SQL for MySQL (created by hand) and declare its URL as a secret",
    "Redis": "use Memorystore (created by hand) and declare its URL as a secret",
    "Valkey": "use Memorystore for Valkey (created by hand) and declare its URL as a secret",
}
# Local conveniences: they have no job in the cloud.
_DEV_TOOLS = re.compile(
    r"(^|/)(adminer|pgadmin4?|dpage/pgadmin4|mailhog|mailpit|mailcatcher|redis-commander|mongo-express|phpmyadmin|portainer|jaeger|otel|grafana|prometheus|smtp4dev)"
)
_PROXIES = re.compile(r"(^|/)(nginx|traefik|caddy|haproxy|envoy)(:|$)")
_DEV_TARGETS = re.compile(
    r"^(dev|devel|develop|development|local|debug|test|tests|testing|build|builder|deps|dependencies|base)([-_].*)?$|.*[-_](dev|development|debug|test)$"
)
_PROD_STAGES = ("runtime", "production", "prod", "release", "final", "runner", "run")
_DEV_COMMAND = re.compile(
    r"--reload|\brunserver\b|\bnodemon\b|\bnpm run dev\b|\byarn dev\b|\bpnpm dev\b|\bnext dev\b"
    r"|\bvite\b(?!\s+build)|--debug\b|\bair\b|\bcargo watch\b|\bwatchexec\b|\bflask run\b|\bmix phx.server\b"
    r"|\bspring-boot:run\b|bootRun"
)
_LOCAL_HOSTS = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/]*@)?(localhost|127\.0\.0\.1|0\.0\.0\.0|host\.docker\.internal)(?::(?P<port>\d+))?(?P<rest>/.*)?$",
    re.I,
)
_URL = re.compile(r"^(?P<scheme>https?|wss?)://(?P<host>[A-Za-z0-9_.-]+)(?::(?P<port>\d+))?(?P<rest>/.*)?$")
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
_IGNORED_KEYS = {
    "container_name",
    "restart",
    "depends_on",
    "tty",
    "stdin_open",
    "labels",
    "logging",
    "hostname",
    "init",
    "platform",
    "profiles",
    "pull_policy",
    "working_dir",
    "user",
    "stop_grace_period",
    "stop_signal",
}


@dataclass
class _Role:
    what: str  # app | postgres | pubsub | engine | tool | proxy
    label: str = ""


def _image_name(svc: dict[str, Any]) -> str:
    return str(svc.get("image") or "").lower()


def _command_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


def _argv(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError:
        return str(value).split()


def _env_of(svc: dict[str, Any]) -> dict[str, str | None]:
    raw = svc.get("environment")
    if isinstance(raw, dict):
        return {
            str(k): None if v is None else (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in raw.items()
        }
    env: dict[str, str | None] = {}
    for item in raw or []:
        key, sep, value = str(item).partition("=")
        env[key] = value if sep else None
    return env


def _role(name: str, svc: dict[str, Any], emulator_hosts: set[str]) -> _Role:
    image = _image_name(svc)
    if "build" in svc:
        return _Role("app")
    if _POSTGRES_IMAGES.search(image):
        return _Role("postgres")
    command = _command_text(svc.get("command")) + " " + _command_text(svc.get("entrypoint"))
    if _PUBSUB_IMAGES.search(image) or (_GCLOUD_IMAGES.search(image) and "pubsub" in command) or name in emulator_hosts:
        return _Role("pubsub")
    base = image.rsplit("/", 1)[-1].split(":")[0]
    for word, label in _ENGINES.items():
        if word in base:
            return _Role("engine", label)
    if _DEV_TOOLS.search(image):
        return _Role("tool", base)
    if _PROXIES.search(image):
        return _Role("proxy", base)
    return _Role("app")


def _ports(svc: dict[str, Any]) -> list[tuple[int | None, int]]:
    """(host port or None, container port) of every published port."""
    out: list[tuple[int | None, int]] = []
    for item in svc.get("ports") or []:
        if isinstance(item, dict):
            target, published = item.get("target"), item.get("published")
            if target is not None and str(target).isdigit():
                host = int(str(published)) if published is not None and str(published).isdigit() else None
                out.append((host, int(target)))
            continue
        text = str(item).split("/")[0]
        parts = text.rsplit(":", 2) if text.count(":") <= 2 else text.split(":")
        container = parts[-1].split("-")[0]
        host_text = parts[-2].split("-")[0] if len(parts) >= 2 else ""
        if container.isdigit():
            out.append((int(host_text) if host_text.isdigit() else None, int(container)))
    return out


def _exposed(svc: dict[str, Any]) -> list[int]:
    return [int(m.group(1)) for e in svc.get("expose") or [] if (m := re.match(r"(\d+)", str(e)))]


def _health(svc: dict[str, Any]) -> tuple[str | None, int | None, str | None]:
    """(HTTP path, port, the command) of a healthcheck that curls or wgets a URL."""
    check = svc.get("healthcheck") or {}
    if not isinstance(check, dict) or check.get("disable"):
        return None, None, None
    test = _command_text(check.get("test"))
    if not test:
        return None, None, None
    match = re.search(r"https?://[^/\s:'\"]+(?::(\d+))?(/[^\s'\"|;&]*)?", test)
    if match and re.search(r"\b(curl|wget|http)\b", test):
        return match.group(2) or "/", int(match.group(1)) if match.group(1) else None, test
    return None, None, test


def _postgres_version(image: str) -> tuple[str, str | None]:
    """(Cloud SQL version, note) for a compose Postgres image like postgres:12, postgis/postgis:15-3.4."""
    tag = image.partition(":")[2]
    match = re.match(r"(?:pg)?(\d+)", tag) or re.search(r"pg(\d+)", tag)
    if not match:
        return DEFAULT_POSTGRES, f"image {image or 'postgres'} names no version: Postgres {DEFAULT_POSTGRES} (guessed)"
    major = int(match.group(1))
    if major in SUPPORTED_POSTGRES:
        return str(major), None
    nearest = min(SUPPORTED_POSTGRES, key=lambda v: abs(v - major))
    return str(nearest), (
        f"Postgres {major} is not offered by Cloud SQL for new instances: Postgres {nearest}, the nearest "
        "(test your app and dump/restore against it)"
    )


def _service_url(name: str, rest: str) -> str:
    path = rest.rstrip("/")
    return "${services." + name + ".url}" + path


class _Mapper:
    def __init__(self, root: Path, project: ComposeProject, source: str) -> None:
        self.root, self.project = root, project
        self.detection = Detection(source=source)
        self.note = self.detection.note
        self.names = {name: service_name(name) for name in project.services}
        self.roles: dict[str, _Role] = {}
        self.db_keys: dict[str, str] = {}  # compose host -> database key
        self.env_var_of: dict[str, str] = {}  # database key -> the variable its URL is given in
        self.browser_facing: set[str] = set()
        self.host_ports: dict[int, str] = {}  # published host port -> compose service
        self.plain: dict[str, list[str]] = {}  # service -> variables copied as they are
        self.edges: dict[str, set[str]] = {}  # service -> services whose URL it gets

    # --------------------------------------------------------------------------------- classify
    def classify(self) -> None:
        emulator_hosts: set[str] = set()
        for svc in self.project.services.values():
            for key, value in _env_of(svc).items():
                if key == "PUBSUB_EMULATOR_HOST" and value:
                    emulator_hosts.add(value.split(":")[0])
        for name, svc in self.project.services.items():
            role = _role(name, svc, emulator_hosts)
            self.roles[name] = role
            if role.what == "app":
                for host, _ in _ports(svc):
                    if host is not None:
                        self.host_ports.setdefault(host, name)

    def apps(self) -> list[str]:
        return [n for n, r in self.roles.items() if r.what == "app"]

    # -------------------------------------------------------------------------------- backing
    def map_backing(self) -> None:
        for name, svc in self.project.services.items():
            role = self.roles[name]
            image = _image_name(svc)
            if role.what == "postgres":
                key = self.names[name][:30].rstrip("-")
                version, why = _postgres_version(image)
                env = _env_of(svc)
                db_name = env.get("POSTGRES_DB") or None
                user = env.get("POSTGRES_USER") or None
                valid = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
                self.detection.databases[key] = DetectedDatabase(
                    key,
                    version,
                    db_name if db_name and valid.match(db_name) else None,
                    user if user and valid.match(user) else None,
                )
                self.db_keys[name] = key
                detail = f"{name} ({image}) -> Cloud SQL Postgres {version}"
                if "postgis" in image:
                    detail += "; PostGIS is an extension there: run CREATE EXTENSION postgis in a migration"
                self.note("mapped", f"databases.{key}", detail)
                if why:
                    self.note("guessed" if "guessed" in why else "mapped", f"databases.{key}.version", why)
            elif role.what == "pubsub":
                self.detection.pubsub = True
                self.note(
                    "mapped",
                    "pubsub",
                    f"{name} ({image or 'emulator'}): the Pub/Sub emulator -> pubsub: (shipit local runs the emulator)",
                )
                self._emulator_topics(svc)
            elif role.what == "engine":
                hint = _ENGINE_HINTS.get(
                    role.label,
                    f"shipit does not run {role.label}: provision it yourself and declare its URL as a secret",
                )
                self.note("dropped", name, f"{role.label} ({image}): {hint}")
            elif role.what == "tool":
                self.note("dropped", name, f"{image}: a local development tool, not deployed")
            elif role.what == "proxy":
                self.note(
                    "dropped",
                    name,
                    f"{image} without a build: a local reverse proxy; each Cloud Run service gets its own HTTPS URL",
                )

    def _emulator_topics(self, svc: dict[str, Any]) -> None:
        # messagebird/gcloud-pubsub-emulator: PUBSUB_PROJECT1=project,topic1:sub1:sub2,topic2
        for key, value in _env_of(svc).items():
            if re.fullmatch(r"PUBSUB_PROJECT\d*", key) and value and "," in value:
                for spec in value.split(",")[1:]:
                    topic, *subs = spec.split(":")
                    self._topic(topic.strip(), f"{key} of the emulator")
                    for sub in subs:
                        self._subscription(sub.strip(), topic.strip())

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
    def referenced_ports(self) -> dict[str, int | None]:
        """App services another service calls by compose host name (http://NAME:PORT) -> that port."""
        out: dict[str, int | None] = {}
        for other, svc in self.project.services.items():
            for value in _env_of(svc).values():
                match = _URL.match(value or "")
                host = match.group("host") if match else None
                if match and host and host in self.roles and host != other and self.roles[host].what == "app":
                    port = match.group("port")
                    out[host] = int(port) if port else out.get(host)
        return out

    def map_apps(self) -> None:
        referenced = self.referenced_ports()
        for name in self.apps():
            self.detection.services.append(self._service(name, self.project.services[name], referenced))
        self._mark_browser_facing()
        self._resolve_database_vars()

    def _build(self, name: str, svc: dict[str, Any], out: DetectedService) -> None:
        build = svc["build"]
        build = {"context": build} if isinstance(build, str) else dict(build or {})
        out.context = str(build.get("context") or ".")
        if out.context != "." and not out.context.startswith(("./", "../", "/")):
            out.context = f"./{out.context}"
        out.dockerfile = build.get("dockerfile")
        args = build.get("args") or {}
        if isinstance(args, list):
            args = dict(str(a).partition("=")[::2] for a in args)
        out.args = {str(k): "" if v is None else str(v) for k, v in args.items()}
        subject = f"services.{out.name}.build"
        self.note(
            "mapped", subject, f"context {out.context}" + (f", dockerfile {out.dockerfile}" if out.dockerfile else "")
        )
        for arg, value in out.args.items():
            if _LOCAL_HOSTS.match(value):
                self.note(
                    "decide",
                    f"{subject}.args.{arg}",
                    f"{value} is baked into the production image: set the deployed URL",
                )
            elif _SECRET_WORDS.search(arg):
                self.note("decide", f"{subject}.args.{arg}", "a secret as a build argument: use build.secrets instead")
        context = (self.root / out.context).resolve()
        dockerfile = context / (out.dockerfile or "Dockerfile")
        if dockerfile.is_file():
            out.kind = "docker"
        elif out.dockerfile is None:
            kind = detect_kind(context)
            if kind is None:
                self.note(
                    "decide",
                    subject,
                    f"no Dockerfile in {out.context}: write one, or run `shipit dockerfile {out.name}`",
                )
                out.kind = "docker"
            else:
                out.kind = kind
                self.note(
                    "mapped",
                    f"{subject}.dockerfile",
                    f"none in {out.context}: init writes a production {kind} Dockerfile",
                )
        else:
            self.note("decide", f"{subject}.dockerfile", f"{out.context}/{out.dockerfile} does not exist")
        target = build.get("target")
        if target and out.kind in ("python", "node", "static"):
            self.note(
                "mapped",
                f"{subject}.target",
                f"'{target}' names a stage of a Dockerfile that does not exist: the written one builds its last stage",
            )
        elif target:
            self._target(str(target), dockerfile, out)

    def _target(self, target: str, dockerfile: Path, out: DetectedService) -> None:
        subject = f"services.{out.name}.build.target"
        stages = dockerfile_stages(dockerfile) or []
        if not _DEV_TARGETS.match(target.lower()):
            out.target = target
            if stages and target.lower() not in stages:
                self.note(
                    "decide", subject, f"'{target}' is not a stage of {dockerfile.name}: name the production stage"
                )
            else:
                self.note("mapped", subject, f"'{target}' kept as the production stage")
            return
        named = [s for s in stages if s]
        prod = next((s for p in _PROD_STAGES for s in reversed(named) if s == p), None)
        if prod is None and stages and stages[-1] and stages[-1] != target.lower():
            prod = stages[-1]
        last_unnamed = bool(stages) and stages[-1] is None and stages[-1:] != [target.lower()]
        out.local_target = target
        if prod is not None:
            out.target = prod
            self.note(
                "guessed",
                subject,
                f"'{target}' is a development stage: production builds stage '{prod}'; local.target keeps '{target}'",
            )
        elif last_unnamed and len(stages) > 1:
            self.note(
                "guessed",
                subject,
                f"'{target}' is a development stage: production builds the Dockerfile's last stage; "
                f"local.target keeps '{target}'",
            )
        else:
            out.target = target
            self.note(
                "decide",
                subject,
                f"'{target}' looks like a development stage and the Dockerfile has no later production stage: "
                "add one and set build.target",
            )

    def _service(self, name: str, svc: dict[str, Any], referenced: dict[str, int | None]) -> DetectedService:
        out = DetectedService(name=self.names[name], context=".", kind="docker")
        subject = f"services.{out.name}"
        if name != out.name:
            self.note("mapped", subject, f"compose service '{name}' renamed to a valid Cloud Run name")
        if "build" in svc:
            self._build(name, svc, out)
        else:
            out.image, out.kind = str(svc.get("image") or ""), "image"
            self.note("mapped", f"{subject}.image", f"{out.image}: deployed as is (nothing to build)")
        self._ports_and_kind(name, svc, out, referenced)
        self._commands(svc, out)
        self._volumes(name, svc, out)
        self._secret_files(svc, out)
        self._environment(name, svc, out)
        self._env_files(svc, out)
        if out.name in self.plain:
            self.note(
                "mapped", f"services.{out.name}.env", f"{', '.join(self.plain[out.name])}: plain values, as in compose"
            )
        ignored = sorted(
            k
            for k in svc
            if k
            in {
                "networks",
                "network_mode",
                "extra_hosts",
                "privileged",
                "cap_add",
                "devices",
                "deploy",
                "ulimits",
                "sysctls",
                "extends",
            }
        )
        if ignored:
            self.note("dropped", subject, f"{', '.join(ignored)}: no Cloud Run equivalent")
        if svc.get("profiles"):
            self.note(
                "mapped",
                subject,
                f"in compose profiles {', '.join(map(str, svc['profiles']))}: deployed like the others "
                "(remove it if it is local-only)",
            )
        return out

    def _ports_and_kind(
        self, name: str, svc: dict[str, Any], out: DetectedService, referenced: dict[str, int | None]
    ) -> None:
        subject = f"services.{out.name}"
        published = _ports(svc)
        exposed = _exposed(svc)
        health_path, health_port, health_test = _health(svc)
        port: int | None = None
        why = ""
        if published:
            port, why = published[0][1], "published port"
        elif exposed:
            port, why = exposed[0], "expose: (reached only by other services)"
        elif name in referenced:
            port, why = referenced[name] or health_port or 8080, "called by other services at http://" + name
        elif health_path is not None:
            port, why = health_port or 8080, "its healthcheck calls HTTP"
        if port is None:
            out.worker = True
            command = _command_text(svc.get("command"))
            self.note(
                "mapped",
                subject,
                "no published port: kind: worker (a background process, no port, no health check)"
                + (f" running `{command}`" if command else ""),
            )
            if health_test:
                self.note("dropped", f"{subject}.healthcheck", f"`{health_test}`: a worker has no HTTP health check")
            return
        out.port = port
        self.note("mapped", f"{subject}.port", f"{port} ({why})")
        if any(host is not None and host != container for host, container in published):
            # Keep the laptop's URLs (other services' localhost:HOST values) as they were.
            out.local_ports = [f"{host}:{container}" for host, container in published if host is not None]
            self.note("mapped", f"{subject}.local.ports", ", ".join(out.local_ports))
        if len({p for _, p in published}) > 1:
            others = sorted({p for _, p in published} - {port})
            self.note("dropped", f"{subject}.ports", f"{', '.join(map(str, others))}: Cloud Run serves one port")
        if health_path is not None:
            out.health_path = health_path
            self.note("mapped", f"{subject}.health.path", f"{health_path} (from the healthcheck)")
        else:
            reason = f"healthcheck `{health_test}` is not an HTTP call" if health_test else "no healthcheck in compose"
            self.note("guessed", f"{subject}.health.path", f"/ ({reason}): set the path that answers 200")

    def _commands(self, svc: dict[str, Any], out: DetectedService) -> None:
        subject = f"services.{out.name}"
        command, entrypoint = svc.get("command"), svc.get("entrypoint")
        if command:
            argv = _argv(command)
            out.local_command = argv
            if _DEV_COMMAND.search(" ".join(argv)):
                self.note(
                    "mapped",
                    f"{subject}.local.command",
                    f"`{' '.join(argv)}` is a development server: local only; Cloud Run runs the image's CMD",
                )
                if out.kind in ("node", "static", "python") and out.local_target is None:
                    # The written Dockerfile's last stage has no dev tooling (nginx, a slim runtime).
                    out.local_target = "build"
                    self.note(
                        "mapped", f"{subject}.local.target", "build: the written Dockerfile's stage with the tooling"
                    )
            else:
                out.cloud_args = argv
                self.note(
                    "mapped", f"{subject}.cloud_run.args", f"`{' '.join(argv)}` (compose command; also local.command)"
                )
        if entrypoint:
            out.cloud_command = _argv(entrypoint)
            self.note("mapped", f"{subject}.cloud_run.command", f"`{' '.join(out.cloud_command)}` (compose entrypoint)")

    def _volumes(self, name: str, svc: dict[str, Any], out: DetectedService) -> None:
        subject = f"services.{out.name}"
        for volume in svc.get("volumes") or []:
            spec = volume if isinstance(volume, str) else f"{volume.get('source', '')}:{volume.get('target', '')}"
            source = spec.split(":")[0]
            if source.startswith((".", "/", "~")) and ":" in spec:
                out.local_volumes.append(spec)
                self.note("mapped", f"{subject}.local.volumes", f"{spec}: a bind mount, local only")
            else:
                self.note(
                    "dropped",
                    f"{subject}.volumes",
                    f"{spec}: Cloud Run has no persistent disk (use Cloud Storage or a database)",
                )

    # ----------------------------------------------------------------------------- variables
    def _environment(self, name: str, svc: dict[str, Any], out: DetectedService) -> None:
        for key, value in _env_of(svc).items():
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
        if (_SECRET_WORDS.search(key) and not a_path) or self._has_credentials(value):
            self._secret(
                out,
                key,
                f"{'in ' + source if from_file else 'a secret-looking variable'}: declared as a secret "
                "(key only; the value stays out of shipit.yaml)",
            )
            return
        local = _LOCAL_HOSTS.match(value)
        if local:
            self._localhost(out, key, value, local)
            return
        url = _URL.match(value)
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
        if var not in self.project.dotenv and default and not _SECRET_WORDS.search(key):
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
            out.env[key] = "jdbc:postgresql://${databases." + db + ".host}:5432/${databases." + db + ".name}"
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

    def _resolve_database_vars(self) -> None:
        for svc in self.detection.services:
            for db in svc.databases:
                var = self.env_var_of.get(db, "DATABASE_URL")
                self.detection.databases[db].env_var = var
        users: dict[str, list[str]] = {}
        for svc in self.detection.services:
            for db in svc.databases:
                users.setdefault(db, []).append(svc.name)
        for name, compose_name in self.names.items():
            if self.roles.get(name, _Role("")).what != "app":
                continue
            depends = self.project.services[name].get("depends_on") or []
            for dep in depends if isinstance(depends, list) else list(depends):
                if dep in self.db_keys:
                    svc = next(s for s in self.detection.services if s.name == compose_name)
                    if self.db_keys[dep] not in svc.databases:
                        svc.databases.append(self.db_keys[dep])
                        self.note(
                            "mapped",
                            f"services.{svc.name}.databases",
                            f"depends on {dep}: gets {self.detection.databases[self.db_keys[dep]].env_var}",
                        )
        for key in self.detection.databases:
            if not any(key in s.databases for s in self.detection.services):
                self.note("guessed", f"databases.{key}", "no service names it in its environment: kept, used by none")

    def _secret_files(self, svc: dict[str, Any], out: DetectedService) -> None:
        for entry in svc.get("secrets") or []:
            source = entry.get("source") if isinstance(entry, dict) else entry
            target = entry.get("target") if isinstance(entry, dict) else None
            source = str(source)
            path = str(target or source)
            path = path if path.startswith("/") else f"/run/secrets/{path}"
            key = re.sub(r"[^A-Za-z0-9_]", "_", source).upper()
            if key[0].isdigit():
                key = f"S_{key}"
            definition = self.project.secrets.get(source) or {}
            subject = f"services.{out.name}.secret_files"
            if "environment" in definition:
                key = str(definition["environment"])
            out.secret_files[path] = key
            origin = definition.get("file") or (f"${definition['environment']}" if "environment" in definition else "?")
            self.note("mapped", subject, f"compose secret {source} ({origin}) -> {key}, mounted at {path}")
            if key not in self.project.dotenv:
                self.note(
                    "decide",
                    f"{subject}.{key}",
                    f"put the content of {origin} into .env as {key} (shipit syncs .env to Secret Manager)",
                )

    def _mark_browser_facing(self) -> None:
        for svc in self.detection.services:
            compose_name = next(n for n, m in self.names.items() if m == svc.name)
            if svc.worker:
                continue
            frontend = svc.kind == "static" or bool(
                re.search(r"front|web|ui|client|app$|next|nuxt|vite|site", compose_name)
            )
            if compose_name in self.browser_facing or (frontend and svc.port in (80, 3000, 4173, 5173, 8080)):
                svc.public = True
                why = (
                    "browsers call it (a frontend names its published port)"
                    if compose_name in self.browser_facing
                    else "a browser-facing frontend"
                )
                self.note("guessed", f"services.{svc.name}.cloud_run.allow_unauthenticated", f"true: {why}")
        for svc in self.detection.services:
            if svc.worker or svc.public:
                continue
            self.note(
                "guessed",
                f"services.{svc.name}.cloud_run.allow_unauthenticated",
                "false: only authenticated callers; set true if browsers call it",
            )


def _check_secrets_in_dotenv(mapper: _Mapper) -> None:
    for svc in mapper.detection.services:
        for key in svc.secrets:
            decided = any(
                f.status == "decide" and f.subject.endswith(f".secrets.{key}") for f in mapper.detection.findings
            )
            if key not in mapper.project.dotenv and not decided:
                mapper.note(
                    "decide",
                    f"services.{svc.name}.secrets.{key}",
                    f"add {key}=... to .env (its value is not copied from compose)",
                )


def map_compose(root: Path, path: Path) -> Detection:
    project = load_compose(root, path)
    mapper = _Mapper(root, project, " + ".join(project.files))
    for note in project.notes:
        mapper.note("dropped", "include", note)
    mapper.classify()
    mapper.map_backing()
    mapper.map_apps()
    _check_secrets_in_dotenv(mapper)
    detection = mapper.detection
    if detection.pubsub and not detection.topics:
        mapper.note(
            "decide", "pubsub.topics", "no topic is named in the compose environment: list the topics your code uses"
        )
    if detection.topics and not detection.pubsub:
        detection.pubsub = True
        mapper.note("mapped", "pubsub", "services name topics: pubsub: declares them")
    return detection
