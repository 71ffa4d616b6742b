"""`shipit logs` for one environment: which workloads, checked locally first, then read or followed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from shipit.errors import UsageError
from shipit.logs.display import format_entry, prefix_width, source_name
from shipit.logs.query import LogQuery, LogSource, check_name, parse_since
from shipit.logs.reader import DEFAULT_POLL_SECONDS, LogApi, follow, read_recent

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.output import Console
    from shipit.remote import JobsApi, Remote


@dataclass(frozen=True)
class LogsOptions:
    names: tuple[str, ...] = ()
    since: str = "1h"
    follow: bool = False
    revision: str | None = None
    severity: str | None = None
    job: str | None = None
    execution: str | None = None
    limit: int = 200
    poll_interval: float = DEFAULT_POLL_SECONDS


def sources_for(target: Target, options: LogsOptions) -> tuple[LogSource, ...]:
    """The workloads to read, from shipit.yaml's services (every one by default) or --job."""
    if options.execution and not options.job:
        raise UsageError("--execution needs --job", hint="pass --job JOB --execution EXECUTION")
    if options.job:
        if options.names:
            raise UsageError("give either service names or --job, not both", hint="run `shipit logs` once for each")
        if options.revision:
            raise UsageError("--revision applies to services, not jobs", hint="use --execution for a job's run")
        check_name("--job", options.job)
        if options.execution:
            check_name("--execution", options.execution)
        return (LogSource("job", options.job, options.execution),)
    services = target.services
    unknown = [n for n in options.names if n not in services]
    if unknown:
        from shipit.config.checks import did_you_mean

        raise UsageError(
            f"no service named '{unknown[0]}' in {target.env_name}",
            hint=did_you_mean(unknown[0], services) or f"services: {', '.join(sorted(services))}",
        )
    if options.revision:
        check_name("--revision", options.revision)
    chosen = options.names or tuple(sorted(services))
    # A worker (no HTTP port) runs as a Cloud Run worker pool, whose entries carry another resource type.
    sources = []
    for n in chosen:
        if getattr(services[n], "kind", "service") == "worker":
            sources.append(LogSource("worker", n))
        else:
            regions = target.service_regions(n)
            sources.append(LogSource("service", n, regions=regions if len(regions) > 1 else ()))
    return tuple(sources)


def latest_execution(jobs: JobsApi, target: Target, job: str) -> str:
    name = f"projects/{target.project}/locations/{target.region}/jobs/{job}"
    state = jobs.get_job(name)
    if state is None:
        raise UsageError(f"no Cloud Run job '{job}' in {target.project} ({target.region})", hint="check the job name")
    if not state.latest_execution:
        raise UsageError(f"job '{job}' has never run", hint=f"run it with `shipit jobs run {job}`")
    return state.latest_execution.rsplit("/", 1)[-1]


def run_logs(
    target: Target,
    console: Console,
    options: LogsOptions,
    remote: Remote,
    *,
    now: datetime | None = None,
    polls: int | None = None,
) -> int:
    """Print the entries; returns how many were printed."""
    sources = sources_for(target, options)
    since = parse_since(options.since, now or datetime.now(timezone.utc))
    # Values from the env file are registered with the redactor as they are read, so a secret that a
    # service writes to its log is masked here too.
    from shipit.envfile import read_env_file

    read_env_file(target.env_file, missing_ok=True)
    if options.job and not options.execution:
        sources = (LogSource("job", options.job, latest_execution(remote.jobs, target, options.job)),)
    api: LogApi = remote.logs
    query = LogQuery(target.project, target.region, sources, since, options.severity, options.revision, options.limit)
    width = prefix_width(sources)
    entries = (
        follow(api, query, interval=options.poll_interval, polls=polls) if options.follow else read_recent(api, query)
    )
    printed = 0
    try:
        for entry in entries:
            printed += 1
            if console.json_mode:
                console.emit({"source": source_name(entry, target.region), **entry})
            else:
                for line in format_entry(entry, width, target.region):
                    console.print(line)
    except KeyboardInterrupt:
        # Ctrl-C is how following ends: not a failure.
        console.info("stopped following")
        return printed
    if printed == 0 and not options.follow:
        what = ", ".join(s.name for s in sources)
        console.info(f"no log entries for {what} since {options.since}")
    return printed
