"""How `shipit destroy` splits the generated module's state around the data (pure: no terraform run)."""

from __future__ import annotations

from shipit.adapters.terraform import StateResource, state_resources
from shipit.destroy.terraform import is_database, is_repository, protected_instances, split

M = "module.app."


def res(name: str, *deps: str, protection: bool = False) -> StateResource:
    kind, label = name.split(".")[0], name.split(".")[1].split("[")[0]
    return StateResource(
        address=M + name,
        resource=f"{M}{kind}.{label}",
        resource_type=kind,
        depends_on=tuple(M + d for d in deps),
        deletion_protection=protection,
    )


STATE = (
    res("google_project_service.apis"),
    res("google_compute_network.main", "google_project_service.apis"),
    res("google_compute_global_address.private_services", "google_compute_network.main"),
    res("google_service_networking_connection.private_services", "google_compute_global_address.private_services"),
    res(
        'google_sql_database_instance.db["main"]',
        "google_service_networking_connection.private_services",
        protection=True,
    ),
    res('google_sql_database.db["main"]', "google_sql_database_instance.db"),
    res('google_sql_user.db["main"]', "google_sql_database_instance.db"),
    res('google_secret_manager_secret.database_url["main"]', "google_project_service.apis"),
    res(
        'google_secret_manager_secret_version.database_url["main"]',
        "google_secret_manager_secret.database_url",
        "google_sql_user.db",
        "google_sql_database_instance.db",
    ),
    res('google_secret_manager_secret.secret["STRIPE_KEY"]', "google_project_service.apis"),
    res('google_service_account.service["api"]'),
    res('google_cloud_scheduler_job.job["nightly"]', "google_service_account.service"),
    res("google_vpc_access_connector.main[0]", "google_compute_network.main"),
    res("google_artifact_registry_repository.images", "google_project_service.apis"),
)


def addresses(items: tuple[StateResource, ...]) -> set[str]:
    return {r.address.removeprefix(M) for r in items}


def test_the_data_its_url_secret_and_what_they_need_stay() -> None:
    parts = split(STATE, keep=is_database)
    assert addresses(parts.kept) == {
        "google_project_service.apis",
        "google_compute_network.main",
        "google_compute_global_address.private_services",
        "google_service_networking_connection.private_services",
        'google_sql_database_instance.db["main"]',
        'google_sql_database.db["main"]',
        'google_sql_user.db["main"]',
        'google_secret_manager_secret_version.database_url["main"]',
        'google_secret_manager_secret.database_url["main"]',
    }
    assert addresses(parts.destroy) == {
        'google_secret_manager_secret.secret["STRIPE_KEY"]',
        'google_service_account.service["api"]',
        'google_cloud_scheduler_job.job["nightly"]',
        "google_vpc_access_connector.main[0]",
        "google_artifact_registry_repository.images",
    }
    assert M + 'google_sql_database_instance.db["main"]' in parts.guarded
    assert M + "google_compute_network.main" not in parts.guarded  # kept as a dependency only


def test_the_repository_stays_without_images() -> None:
    parts = split(STATE, keep=lambda r: is_database(r) or is_repository(r))
    assert "google_artifact_registry_repository.images" in addresses(parts.kept)


def test_deletion_protection_is_read_from_the_state() -> None:
    assert protected_instances(STATE) == [M + 'google_sql_database_instance.db["main"]']


def test_state_resources_reads_every_module_and_skips_data_sources() -> None:
    document = {
        "values": {
            "root_module": {
                "resources": [{"address": "data.x.y", "mode": "data", "type": "x", "name": "y"}],
                "child_modules": [
                    {
                        "address": "module.app",
                        "resources": [
                            {
                                "address": 'module.app.google_sql_database_instance.db["main"]',
                                "mode": "managed",
                                "type": "google_sql_database_instance",
                                "name": "db",
                                "index": "main",
                                "values": {"deletion_protection": True, "root_password": "never-kept"},
                                "depends_on": ["module.app.google_compute_network.main"],
                            }
                        ],
                    }
                ],
            }
        }
    }
    (only,) = state_resources(document)
    assert only.resource == "module.app.google_sql_database_instance.db"
    assert only.depends_on == ("module.app.google_compute_network.main",)
    assert only.deletion_protection is True
    assert "never-kept" not in repr(only)
    assert state_resources({}) == ()
