"""Map a compose project onto shipit.yaml's model, recording every mapping, guess and drop as a Finding.

Rules, per compose service:
- Postgres (any image whose name is postgres/postgis/timescale) -> a Cloud SQL database, its version
  brought to the nearest one Cloud SQL offers; MySQL/MariaDB likewise (engine: mysql); other engines (Redis, ...)
  are reported by name.
- The Pub/Sub emulator -> the `pubsub:` section, with the topics and subscriptions the other services name.
- Anything else with `build:` or `image:` -> a service; one with no published, exposed or referenced port,
  no HTTP healthcheck -> a worker.
Per variable: compose host names in URLs become `${services.NAME.url}`; values that only make sense on a
laptop (emulator hosts, localhost URLs) go to `local.env`; local project ids become `${environment.project}`;
anything that looks secret, or whose value comes from .env, is declared as a secret (the key only).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shipit.config.cloudrun_checks import reserved_path
from shipit.initcompose import (
    ComposeProject,
    command_text,
    dockerfile_stages,
    env_of,
    exposed_ports,
    health,
    interpolate,
    load_compose,
    ports,
    to_argv,
)
from shipit.initmodel import (
    SECRET_WORDS,
    DetectedDatabase,
    DetectedService,
    Detection,
    deploy_port,
    detect_kind,
    service_name,
)
from shipit.initroles import ENGINE_HINTS, Role, image_name, mysql_version, postgres_version, service_role
from shipit.initvars import HTTP_URL, LOCAL_URL, VariableRules

_DEV_TARGETS = re.compile(
    r"^(dev|devel|develop|development|local|debug|test|tests|testing|build|builder|deps|dependencies|base)([-_].*)?$|.*[-_](dev|development|debug|test)$"
)
_PROD_STAGES = ("runtime", "production", "prod", "release", "final", "runner", "run")
_DEV_COMMAND = re.compile(
    r"--reload|\brunserver\b|\bnodemon\b|\bnpm run dev\b|\byarn dev\b|\bpnpm dev\b|\bnext dev\b"
    r"|\bvite\b(?!\s+build)|--debug\b|\bair\b|\bcargo watch\b|\bwatchexec\b|\bflask run\b|\bmix phx.server\b"
    r"|\bspring-boot:run\b|bootRun"
)


class _Mapper(VariableRules):
    def __init__(self, root: Path, project: ComposeProject, source: str) -> None:
        self.root, self.project = root, project
        self.detection = Detection(source=source)
        self.note = self.detection.note
        self.names = {name: service_name(name) for name in project.services}
        self.roles: dict[str, Role] = {}
        self.db_keys: dict[str, str] = {}  # compose host -> database key
        self.cache_keys: dict[str, str] = {}  # compose host -> cache key
        self.env_var_of: dict[str, str] = {}  # database key -> the variable its URL is given in
        self.browser_facing: set[str] = set()
        self.host_ports: dict[int, str] = {}  # published host port -> compose service
        self.plain: dict[str, list[str]] = {}  # service -> variables copied as they are
        self.edges: dict[str, set[str]] = {}  # service -> services whose URL it gets

    # --------------------------------------------------------------------------------- classify
    def classify(self) -> None:
        emulator_hosts: set[str] = set()
        for svc in self.project.services.values():
            for key, value in env_of(svc).items():
                if key == "PUBSUB_EMULATOR_HOST" and value:
                    emulator_hosts.add(value.split(":")[0])
        for name, svc in self.project.services.items():
            role = service_role(name, svc, emulator_hosts)
            self.roles[name] = role
            if role.what == "app":
                for host, _ in ports(svc):
                    if host is not None:
                        self.host_ports.setdefault(host, name)

    def apps(self) -> list[str]:
        return [n for n, r in self.roles.items() if r.what == "app"]

    # -------------------------------------------------------------------------------- backing
    def map_backing(self) -> None:
        for name, svc in self.project.services.items():
            role = self.roles[name]
            image = image_name(svc)
            if role.what == "postgres":
                key = self.names[name][:30].rstrip("-")
                version, why = postgres_version(image)
                env = env_of(svc)
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
            elif role.what == "redis":
                self.map_cache(name, image)
            elif role.what == "mysql":
                self._map_mysql(name, svc, image)
            elif role.what == "pubsub":
                self.detection.pubsub = True
                self.note(
                    "mapped",
                    "pubsub",
                    f"{name} ({image or 'emulator'}): the Pub/Sub emulator -> pubsub: (shipit local runs the emulator)",
                )
                self._emulator_topics(svc)
            elif role.what == "engine":
                hint = ENGINE_HINTS.get(
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

    def _map_mysql(self, name: str, svc: dict[str, Any], image: str) -> None:
        key = self.names[name][:30].rstrip("-")
        version, why = mysql_version(image)
        env = env_of(svc)
        db_name = env.get("MYSQL_DATABASE") or env.get("MARIADB_DATABASE") or None
        user = env.get("MYSQL_USER") or env.get("MARIADB_USER") or None
        valid = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
        self.detection.databases[key] = DetectedDatabase(
            key,
            version,
            db_name if db_name and valid.match(db_name) else None,
            user if user and valid.match(user) and len(user) <= 32 else None,
            engine="mysql",
        )
        self.db_keys[name] = key
        self.note("mapped", f"databases.{key}", f"{name} ({image}) -> Cloud SQL for MySQL {version}")
        if why:
            self.note("guessed" if "guessed" in why else "mapped", f"databases.{key}.version", why)

    def _emulator_topics(self, svc: dict[str, Any]) -> None:
        # messagebird/gcloud-pubsub-emulator: PUBSUB_PROJECT1=project,topic1:sub1:sub2,topic2
        for key, value in env_of(svc).items():
            if re.fullmatch(r"PUBSUB_PROJECT\d*", key) and value and "," in value:
                for spec in value.split(",")[1:]:
                    topic, *subs = spec.split(":")
                    self._topic(topic.strip(), f"{key} of the emulator")
                    for sub in subs:
                        self._subscription(sub.strip(), topic.strip())

    def referenced_ports(self) -> dict[str, int | None]:
        """App services another service calls by compose host name (http://NAME:PORT) -> that port."""
        out: dict[str, int | None] = {}
        for other, svc in self.project.services.items():
            for value in env_of(svc).values():
                match = HTTP_URL.match(value or "")
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
        subject = f"services.{out.name}.build"
        self.note(
            "mapped", subject, f"context {out.context}" + (f", dockerfile {out.dockerfile}" if out.dockerfile else "")
        )
        self._build_args(build.get("args") or {}, out)
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

    def _build_args(self, raw: Any, out: DetectedService) -> None:
        """Build arguments are written into shipit.yaml: never a secret, never a value from .env."""
        subject = f"services.{out.name}.build"
        if isinstance(raw, list):
            raw = dict(str(a).partition("=")[::2] for a in raw)
        for arg, given in raw.items():
            value = "" if given is None else str(given)
            names = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", value.replace("$$", "")))
            if SECRET_WORDS.search(str(arg)) or names & set(self.project.dotenv) or given is None:
                out.build_secrets.append(str(arg))
                self.note(
                    "mapped",
                    f"{subject}.secrets.{arg}",
                    "a build argument whose value is secret or in .env: a BuildKit build secret, key only",
                )
                self.note(
                    "decide",
                    f"{subject}.secrets.{arg}",
                    f"read it in the Dockerfile with RUN --mount=type=secret,id={arg} (it is no longer an ARG)"
                    + ("" if arg in self.project.dotenv else f", and add {arg} to .env"),
                )
                continue
            value = interpolate(value, {})
            out.args[str(arg)] = value
            if LOCAL_URL.match(value):
                self.note(
                    "decide",
                    f"{subject}.args.{arg}",
                    f"{value} is baked into the production image: set the deployed URL",
                )

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
        published = ports(svc)
        exposed = exposed_ports(svc)
        health_path, health_port, health_test = health(svc)
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
            command = command_text(svc.get("command"))
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
        written = deploy_port(out)
        if written != port:
            self.note(
                "mapped",
                f"{subject}.port",
                f"{written}: the Dockerfile init writes listens on $PORT ({port} was {why})",
            )
        else:
            self.note("mapped", f"{subject}.port", f"{port} ({why})")
        if any(host is not None and host != container for host, container in published):
            # Keep the laptop's URLs (other services' localhost:HOST values) as they were.
            out.local_ports = [f"{host}:{container}" for host, container in published if host is not None]
            self.note("mapped", f"{subject}.local.ports", ", ".join(out.local_ports))
        if len({p for _, p in published}) > 1:
            others = sorted({p for _, p in published} - {port})
            self.note("dropped", f"{subject}.ports", f"{', '.join(map(str, others))}: Cloud Run serves one port")
        reserved = reserved_path(health_path) if health_path is not None else None
        if health_path is not None and reserved is not None:
            # Cloud Run answers such a path itself: the app would never see the deploy's health check.
            self.note(
                "decide",
                f"{subject}.health.path",
                f"the healthcheck calls {health_path}, but {reserved}: serve the check on another path "
                "(e.g. /health) and set it here",
            )
        elif health_path is not None:
            out.health_path = health_path
            self.note("mapped", f"{subject}.health.path", f"{health_path} (from the healthcheck)")
        else:
            reason = f"healthcheck `{health_test}` is not an HTTP call" if health_test else "no healthcheck in compose"
            self.note("guessed", f"{subject}.health.path", f"/ ({reason}): set the path that answers 200")

    def _commands(self, svc: dict[str, Any], out: DetectedService) -> None:
        subject = f"services.{out.name}"
        command, entrypoint = svc.get("command"), svc.get("entrypoint")
        if command:
            argv = to_argv(command)
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
            out.cloud_command = to_argv(entrypoint)
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
            if self.roles.get(name, Role("")).what != "app":
                continue
            depends = self.project.services[name].get("depends_on") or []
            for dep in depends if isinstance(depends, list) else list(depends):
                self.cache_dependency(next(s for s in self.detection.services if s.name == compose_name), dep)
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
            origin = definition.get("file") or (f"${definition['environment']}" if "environment" in definition else "?")
            if out.worker:
                # Cloud Run worker pools cannot mount secrets as files: the worker reads an env var instead.
                if key not in out.secrets:
                    out.secrets.append(key)
                self.note(
                    "decide",
                    f"services.{out.name}.secrets",
                    f"compose secret {source} ({origin}) -> {key} as an environment variable, not {path}: "
                    "Cloud Run worker pools cannot mount secret files",
                )
            else:
                out.secret_files[path] = key
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
    mapper.detection.app_name = project.name
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
