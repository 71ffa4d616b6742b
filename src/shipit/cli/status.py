"""`shipit status`: what runs on Cloud Run, and whether it differs from shipit.yaml."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


def _traffic(entries: tuple[dict[str, object], ...]) -> str:
    parts = []
    for t in entries:
        text = f"{t['percent']}% {t['revision']}"
        if t.get("tag"):
            text += f" [{t['tag']}]"
        parts.append(text)
    return ", ".join(parts) or "-"


@effect(Effect.READ)
@click.command()
@click.argument("names", metavar="[SERVICE]...", nargs=-1)
@global_options
@pass_app
def status(app: Application, names: tuple[str, ...]) -> None:
    """URL, ready revision, traffic, image, release and drift of each service and worker (table or --json)."""
    from shipit.steps import services, workers
    from shipit.steps.context import StepContext

    ctx = StepContext(target=app.target, console=app.console)
    worker_names = set(workers.worker_names(app.target))
    wanted = [n for n in names if n not in worker_names]
    rows = services.status(ctx, wanted) if wanted or not names else []
    pools = [w for w in workers.status(ctx) if not names or w["name"] in names] if worker_names else []
    # Drift is against the images, secret versions and Terraform outputs the resolver found: say where.
    inputs = dict(ctx.sources)
    app.console.emit(
        {
            "environment": app.target.env_name,
            "services": [r.to_json() for r in rows],
            "workers": pools,
            "inputs": inputs,
        }
    )
    table = []
    for r in rows:
        if not r.deployed:
            table.append([r.name, "not deployed", "-", "-", "-", "-", "-"])
            continue
        digest = (r.image or "-").rsplit("@", 1)[-1][:19]
        deployed = f"{(r.deployed_at or '-')[:19]} {(r.git_sha or '-')[:8]}"
        drift = "failed: " + r.failed_revision if r.failed_revision else ("yes" if r.drift else "no")
        table.append([r.name, r.url or "-", r.ready_revision or "-", _traffic(r.traffic), digest, deployed, drift])
    app.console.table(["SERVICE", "URL", "REVISION", "TRAFFIC", "IMAGE", "DEPLOYED (git)", "DRIFT"], table)
    for r in rows:
        for line in r.drift:
            app.console.print(f"  {r.name}: {line}")
    if pools:
        app.console.table(
            ["WORKER", "REVISION", "INSTANCES", "SPLIT", "RELEASE", "READY"],
            [
                [
                    w["name"],
                    w.get("revision") or "-",
                    w.get("instances", "-"),
                    w.get("splits", "-"),
                    w.get("release") or "-",
                    "yes" if w.get("ready") else ("not deployed" if not w["deployed"] else "no"),
                ]
                for w in pools
            ],
        )
    for step, source in sorted(inputs.items()):
        app.console.info(f"compared with {step} from {source}")
