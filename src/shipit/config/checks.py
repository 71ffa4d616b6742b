"""Rules that span fields: references, Cloud Run's cpu/memory/concurrency rules, dependency cycles."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from shipit.config.database_engines import engine
from shipit.config.models import CloudRun, Database, ShipitConfig
from shipit.config.refs import ReferenceError_, parse_refs
from shipit.config.types import cpu_count, memory_mib
from shipit.config.workload_checks import workload_problems

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: Path_
    message: str
    hint: str | None = None
    at_key: bool = False


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def _undefined(kind: str, name: str, known: Iterable[str]) -> tuple[str, str | None]:
    known = sorted(known)
    hint = did_you_mean(name, known) or (f"defined: {', '.join(known)}" if known else f"define it under {kind}:")
    return f"{kind[:-1]} '{name}' is not defined", hint


# Memory ceilings (MiB) per whole-CPU count, from Cloud Run's limits.
_MAX_MEMORY = {1: 4096, 2: 8192, 4: 16384, 6: 24576, 8: 32768}
_MIN_MEMORY = {4: 2048, 6: 4096, 8: 4096}


def _cloud_run_problems(base: Path_, cr: CloudRun) -> Iterator[Problem]:
    cpus = cpu_count(cr.cpu)
    mib = memory_mib(cr.memory)
    if cpus < 1 and cr.concurrency > 1:
        yield Problem(
            (*base, "concurrency"),
            f"concurrency {cr.concurrency} needs at least 1 CPU (cpu is {cr.cpu})",
            "set concurrency: 1 or cpu: 1",
        )
    if cpus < 1 and not cr.cpu_idle:
        yield Problem(
            (*base, "cpu_idle"),
            f"always-allocated CPU needs at least 1 CPU (cpu is {cr.cpu})",
            "set cpu: 1 or cpu_idle: true",
        )
    if cpus < 1 and mib > 512:
        yield Problem(
            (*base, "memory"), f"{cr.memory} needs at least 1 CPU (cpu is {cr.cpu})", "use at most 512Mi or cpu: 1"
        )
    ceiling = _MAX_MEMORY.get(int(cpus)) if cpus >= 1 else None
    if ceiling is not None and mib > ceiling:
        yield Problem(
            (*base, "memory"),
            f"{cr.memory} is more than {cr.cpu} CPU allows ({ceiling // 1024}Gi)",
            "raise cpu or lower memory",
        )
    floor = _MIN_MEMORY.get(int(cpus)) if cpus >= 1 else None
    if floor is not None and mib < floor:
        yield Problem(
            (*base, "memory"),
            f"{cr.cpu} CPUs need at least {floor // 1024}Gi of memory (got {cr.memory})",
            "raise memory or lower cpu",
        )
    if cr.min_instances > cr.max_instances:
        yield Problem(
            (*base, "min_instances"),
            f"min_instances ({cr.min_instances}) is greater than max_instances ({cr.max_instances})",
            "lower min_instances or raise max_instances",
        )
    if cr.execution_environment == "gen2" and mib < 512:
        yield Problem((*base, "memory"), f"the gen2 execution environment needs at least 512Mi (got {cr.memory})")


def _naming_problems(config: ShipitConfig) -> Iterator[Problem]:
    """secrets.naming must give a valid Secret Manager id for every key and environment."""
    naming = config.secrets.naming
    path: Path_ = ("secrets", "naming")
    if "{key}" not in naming:
        yield Problem(path, f"'{naming}' has no {{key}}: every key would share one secret", "e.g. {app}-{env}-{key}")
        return
    for env in list(config.environments) or ["env"]:
        try:
            sample = naming.format(app=config.app, env=env, key="KEY")
        except (KeyError, IndexError, ValueError):
            yield Problem(path, f"'{naming}' uses a placeholder other than {{app}}, {{env}} and {{key}}")
            return
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,200}", sample):
            yield Problem(
                path,
                f"'{naming}' gives '{sample}', not a valid Secret Manager id",
                "use letters, digits, - and _ around the placeholders",
            )
            return


def check(config: ShipitConfig) -> list[Problem]:
    from shipit.config.cloudrun_checks import service_problems  # it builds on this module's Problem
    from shipit.config.limits import limit_problems

    problems: list[Problem] = []
    problems.extend(_naming_problems(config))
    from shipit.config.collisions import shared_project_problems

    problems.extend(shared_project_problems(config))
    problems.extend(Problem(path, message, hint) for path, message, hint in limit_problems(config))
    services, databases = config.services, config.databases
    if config.default_environment and config.default_environment not in config.environments:
        name, env_names = config.default_environment, list(config.environments)
        hint: str | None = did_you_mean(name, env_names) or f"defined: {', '.join(env_names)}"
        problems.append(Problem(("default_environment",), f"environment '{name}' is not defined", hint))
    for env_name, environment in config.environments.items():
        overlaid: tuple[tuple[str, Mapping[str, object]], ...] = (
            ("services", services),
            ("databases", databases),
            ("caches", config.caches),
        )
        for section, known in overlaid:
            for key in getattr(environment, section):
                if key not in known:
                    message, hint = _undefined(section, key, known)
                    problems.append(Problem(("environments", env_name, section, key), message, hint, at_key=True))

    url_edges: dict[str, set[str]] = {name: set() for name in services}
    for name, svc in services.items():
        base: Path_ = ("services", name)
        if svc.build is None and svc.image is None:
            problems.append(Problem(base, "needs either build or image", "add build: {context: .}"))
        for i, db_ref in enumerate(svc.databases):
            if db_ref not in databases:
                message, hint = _undefined("databases", db_ref, databases)
                problems.append(Problem((*base, "databases", i), message, hint))
        db_vars = [databases[d].env_var for d in svc.databases if d in databases]
        for var in {v for v in db_vars if db_vars.count(v) > 1}:
            problems.append(
                Problem(
                    (*base, "databases"), f"two databases would both set {var}", "give one database a different env_var"
                )
            )
        plain = set(svc.env)
        for i, key in enumerate(svc.secrets):
            if key in plain:
                problems.append(
                    Problem((*base, "secrets", i), f"{key} is both a plain env var and a secret", "remove it from env")
                )
            if key in db_vars:
                problems.append(
                    Problem(
                        (*base, "secrets", i), f"{key} is set by a database of this service", "remove it from secrets"
                    )
                )
        problems.extend(_cloud_run_problems((*base, "cloud_run"), svc.cloud_run))
        problems.extend(service_problems(base, name, svc))
        for section, variables in (("env", svc.env), ("local", svc.local.env)):
            for var, value in variables.items():
                path: Path_ = (*base, section, var) if section == "env" else (*base, "local", "env", var)
                try:
                    refs = parse_refs(value)
                except ReferenceError_ as exc:
                    problems.append(Problem(path, str(exc)))
                    continue
                for ref in refs:
                    if ref.kind == "services" and ref.name not in services:
                        message, hint = _undefined("services", ref.name, services)
                        problems.append(Problem(path, f"{ref}: {message}", hint))
                    elif ref.kind == "services" and ref.name == name:
                        problems.append(
                            Problem(
                                path,
                                f"{ref}: a service cannot depend on its own URL",
                                "Cloud Run sets K_SERVICE; build the URL in code",
                            )
                        )
                    elif ref.kind == "services" and section == "env":
                        url_edges[name].add(ref.name)
                    elif ref.kind == "databases" and ref.name not in databases:
                        message, hint = _undefined("databases", ref.name, databases)
                        problems.append(Problem(path, f"{ref}: {message}", hint))
    problems.extend(_cycle_problems(url_edges))
    problems.extend(Problem(path, message, hint) for path, message, hint in workload_problems(config))
    from shipit.config.caches import cache_problems

    problems.extend(Problem(path, message, hint) for path, message, hint in cache_problems(config))
    from shipit.config.multiregion import multiregion_problems

    problems.extend(Problem(path, message, hint) for path, message, hint in multiregion_problems(config))

    for key in config.secrets.extra:
        if any(key == d.env_var for d in databases.values()):
            problems.append(Problem(("secrets", "extra"), f"{key} is managed by a database", "remove it"))
    for db_name, db in databases.items():
        problems.extend(database_engine_problems(db_name, db))
        if db.availability == "regional" and not (db.backups and db.point_in_time_recovery):
            # Cloud SQL refuses a high-availability instance without point-in-time recovery (MySQL: the
            # binary log).
            problems.append(
                Problem(
                    ("databases", db_name, "availability"),
                    f"regional (high-availability) {engine(db.engine).label} needs backups and point-in-time recovery",
                    "set backups: true and point_in_time_recovery: true, or availability: zonal",
                )
            )
        if db.migrate is None:
            continue
        users = [s for s, svc in services.items() if db_name in svc.databases]
        path = ("databases", db_name, "migrate")
        if db.migrate.service is None and len(users) != 1:
            problems.append(
                Problem(
                    path,
                    "cannot tell which service's image runs the migration",
                    "set migrate.service to one of: " + (", ".join(users) or "(no service uses it)"),
                )
            )
        elif db.migrate.service is not None and db.migrate.service not in services:
            message, hint = _undefined("services", db.migrate.service, services)
            problems.append(Problem((*path, "service"), message, hint))
    if config.pubsub:
        for sub_name, sub in config.pubsub.subscriptions.items():
            path = ("pubsub", "subscriptions", sub_name)
            if sub.topic not in config.pubsub.topics:
                message, hint = _undefined("topics", sub.topic, config.pubsub.topics)
                problems.append(Problem((*path, "topic"), message, hint))
            if sub.push and sub.push.service not in services:
                message, hint = _undefined("services", sub.push.service, services)
                problems.append(Problem((*path, "push", "service"), message, hint))
    return problems


def _cycle_problems(edges: dict[str, set[str]]) -> list[Problem]:
    """Services whose env refers to each other's URL can never be deployed in an order."""
    problems: list[Problem] = []
    state: dict[str, int] = {}
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    problems.append(
                        Problem(
                            ("services", cycle[0], "env"),
                            "dependency cycle between service URLs: " + " -> ".join(cycle),
                            "one service must learn the other's URL another way",
                        )
                    )
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return problems


def deploy_order(config: ShipitConfig) -> list[list[str]]:
    """Services grouped in waves: each wave only depends on URLs of earlier waves."""
    deps: dict[str, set[str]] = {}
    for name, svc in config.services.items():
        deps[name] = {r.name for v in svc.env.values() for r in parse_refs(v) if r.kind == "services"}
    waves: list[list[str]] = []
    done: set[str] = set()
    while len(done) < len(deps):
        wave = sorted(n for n, d in deps.items() if n not in done and d <= done)
        if not wave:  # unreachable after check(); guards against an infinite loop
            raise ValueError("dependency cycle")
        waves.append(wave)
        done.update(wave)
    return waves


def database_engine_problems(key: str, db: Database) -> list[Problem]:
    """A version the database's engine does not have (postgres '8.4', mysql '16'), a user name it refuses."""
    spec = engine(db.engine)
    problems: list[Problem] = []
    if db.version not in spec.versions:
        versions = ", ".join(f"'{v}'" for v in spec.versions)
        problems.append(
            Problem(
                ("databases", key, "version"),
                f"'{db.version}' is not a {spec.label} version",
                f"use one of: {versions}, or remove it for '{spec.default_version}'",
            )
        )
    if db.user is not None and len(db.user) > spec.max_user_length:
        problems.append(
            Problem(
                ("databases", key, "user"),
                f"{spec.label} user names have at most {spec.max_user_length} characters",
                "use a shorter name",
            )
        )
    return problems
