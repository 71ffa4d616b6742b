"""`shipit destroy` end to end: the real Cloud Run, Secret Manager and Artifact Registry clients against the
HTTP fake (in-process), through shipit's entry point."""

from __future__ import annotations

import json

from adapters.deploy.conftest import PARENT, image
from adapters.destroy.conftest import REPOSITORY, Estate
from cli_runner import invoke

FOREIGN_SERVICES = {"other-app", "hand-made"}


def test_destroys_what_shipit_labelled_for_this_environment_and_nothing_else(estate: Estate) -> None:
    result = invoke("destroy", "--yes")
    assert result.exit_code == 0, result.output
    assert estate.names("services") == FOREIGN_SERVICES
    assert estate.names("jobs") == {"prod-cleanup"}
    assert estate.names("pools") == set()
    assert estate.secrets() == {"other-staging-STRIPE_KEY"}
    # Images stay without --images.
    assert REPOSITORY in estate.fake.artifacts.repositories
    assert "destroyed staging: 6 resource(s)" in result.stdout


def test_a_service_deployed_before_the_app_env_labels_is_named_and_left(estate: Estate) -> None:
    from shipit.adapters.gcp.clients import GcpClients
    from shipit.adapters.gcp.run import CloudRunClient

    estate.project.write("api: {}\nweb: {}\nlegacy: {}\n")
    CloudRunClient(GcpClients()).create_service(
        PARENT, "legacy", {"labels": {"managed-by": "shipit"}, "template": {"containers": [{"image": image("api")}]}}
    )
    result = invoke("destroy", "--yes")
    assert result.exit_code == 0, result.output
    assert estate.names("services") == {*FOREIGN_SERVICES, "legacy"}
    assert "Cloud Run legacy: managed-by=shipit but without app/env labels" in result.stdout


def test_the_plan_lists_every_deletion_what_goes_with_it_and_what_stays(estate: Estate) -> None:
    result = invoke("destroy", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for line in (
        "Cloud Run service api",
        "Cloud Run service web",
        "Cloud Run worker pool queue",
        "Cloud Run job cleanup",
        "Secret Manager secret acme-staging-OLD_KEY",
        "Secret Manager secret acme-staging-STRIPE_KEY",
    ):
        assert line in out
    assert "IAM bindings" in out
    assert "--images deletes the repository" in out
    for foreign in ("other-app", "hand-made", "prod-cleanup", "other-staging"):
        assert foreign not in out


def test_dry_run_writes_nothing(estate: Estate) -> None:
    result = invoke("destroy", "--dry-run", "--images", "--include-data", "--json")
    assert result.exit_code == 0, result.output
    assert estate.writes() == []
    document = json.loads(result.stdout.strip().splitlines()[-1])
    assert document["dry_run"] is True
    kinds = sorted(r["kind"] for r in document["plan"]["removals"])
    assert kinds == ["job", "repository", "secret", "secret", "service", "service", "worker-pool"]


def test_images_deletes_the_repository(estate: Estate) -> None:
    result = invoke("destroy", "--yes", "--images")
    assert result.exit_code == 0, result.output
    assert REPOSITORY not in estate.fake.artifacts.repositories


def test_images_leaves_a_repository_labelled_for_someone_else(estate: Estate) -> None:
    estate.fake.artifacts.repositories[REPOSITORY]["labels"] = {"app": "acme", "env": "prod", "managed-by": "shipit"}
    result = invoke("destroy", "--yes", "--images")
    assert result.exit_code == 0, result.output
    assert REPOSITORY in estate.fake.artifacts.repositories
    assert "not labelled app=acme, env=staging by shipit" in result.stdout


def test_an_interrupted_destroy_finishes_on_the_next_run(estate: Estate) -> None:
    # The second service delete is refused (not retryable): the run stops with some resources gone.
    estate.fake.faults.fail("run.projects.locations.services.delete", status=403, nth=2, times=1)
    first = invoke("destroy", "--yes")
    assert first.exit_code == 1, first.output
    assert len(estate.names("services") - FOREIGN_SERVICES) == 1
    assert estate.names("jobs") == {"cleanup", "prod-cleanup"}

    again = invoke("destroy", "--dry-run")
    assert again.exit_code == 0, again.output
    assert again.stdout.count("Cloud Run service") == 1  # only what remains is planned

    second = invoke("destroy", "--yes")
    assert second.exit_code == 0, second.output
    assert estate.names("services") == FOREIGN_SERVICES
    assert estate.names("jobs") == {"prod-cleanup"}
    assert estate.secrets() == {"other-staging-STRIPE_KEY"}

    third = invoke("destroy", "--yes")
    assert third.exit_code == 0, third.output
    assert "nothing of staging is left to destroy" in third.stdout


def test_a_lost_answer_to_a_delete_counts_as_done(estate: Estate) -> None:
    # The delete happened but its answer was dropped: the retry meets a 404, which means gone.
    estate.fake.faults.drop_response("run.projects.locations.jobs.delete", nth=1, times=1)
    result = invoke("destroy", "--yes")
    assert result.exit_code == 0, result.output
    assert estate.names("jobs") == {"prod-cleanup"}


def test_a_protected_environment_needs_allow_protected(estate: Estate) -> None:
    config = estate.project.root / "shipit.yaml"
    config.write_text(config.read_text().replace("region: us-central1}", "region: us-central1, protected: true}"))
    refused = invoke("destroy", "--yes")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: environment staging is protected: destroying it needs --allow-protected "
        "(or set environments.staging.protected: false in shipit.yaml)\n"
    )
    assert estate.fake.calls == []
    allowed = invoke("destroy", "--yes", "--allow-protected")
    assert allowed.exit_code == 0, allowed.output
    assert estate.names("services") == FOREIGN_SERVICES


def test_prod_is_protected_by_default(estate: Estate) -> None:
    config = estate.project.root / "shipit.yaml"
    config.write_text(
        config.read_text().replace(
            "environments:\n",
            "default_environment: staging\nenvironments:\n  prd: {project: acme-prd, region: us-central1}\n",
        )
    )
    refused = invoke("destroy", "-e", "prd", "--yes")
    assert refused.exit_code == 2
    assert "environment prd is protected" in refused.stderr
    assert estate.fake.calls == []


def test_bad_config_is_reported_before_any_call(estate: Estate) -> None:
    config = estate.project.root / "shipit.yaml"
    config.write_text(config.read_text() + "bogus: 1\n")
    result = invoke("destroy", "--yes")
    assert result.exit_code == 2
    assert estate.fake.calls == []


class StateOnly:
    """The environment's Terraform as far as planning reads it: the state of the generated module."""

    def state(self) -> tuple[object, ...]:
        from unit.infra.test_destroy_split import STATE

        return STATE


def test_include_data_with_deletion_protection_on_is_refused_with_the_fix(estate: Estate) -> None:
    from shipit.destroy import DestroyOptions, plan

    ctx = estate.project.ctx()
    planned = plan(ctx, DestroyOptions(include_data=True), StateOnly())  # type: ignore[arg-type]
    (blocker,) = planned.blockers
    assert 'deletion protection is on for module.app.google_sql_database_instance.db["main"]' in blocker
    assert "databases.NAME.deletion_protection: false" in blocker
    assert "shipit infra apply -e staging" in blocker
    without = plan(ctx, DestroyOptions(), StateOnly())  # type: ignore[arg-type]
    assert without.blockers == ()
    assert without.data is None
    assert any("--include-data destroys them last" in k for k in without.kept)
    assert estate.writes() == []


class NoDatabase:
    """A state with no Cloud SQL: a service account and the image repository (and the APIs it needs)."""

    def state(self) -> tuple[object, ...]:
        from unit.infra.test_destroy_split import res

        return (
            res("google_project_service.apis"),
            res('google_service_account.service["api"]'),
            res("google_artifact_registry_repository.images", "google_project_service.apis"),
        )


def test_without_images_the_terraform_repository_stays_even_with_include_data(estate: Estate) -> None:
    from shipit.destroy import DestroyOptions, plan

    ctx = estate.project.ctx()
    planned = plan(ctx, DestroyOptions(include_data=True), NoDatabase())  # type: ignore[arg-type]
    assert planned.infra is not None
    assert planned.infra.resources == ('module.app.google_service_account.service["api"]',)
    assert planned.data is None  # not a whole-state destroy, which would take the repository
    with_images = plan(ctx, DestroyOptions(include_data=True, images=True), NoDatabase())  # type: ignore[arg-type]
    assert with_images.infra is not None
    assert "module.app.google_artifact_registry_repository.images" in with_images.infra.resources
