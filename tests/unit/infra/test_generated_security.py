"""The generated module, parsed with a real HCL parser: the security properties hold for every config."""

from __future__ import annotations

import json
import re
from typing import Any

from infra_support import Generated

from shipit.names import database_url_secret_key
from shipit.render.terraform import service_secret_keys

PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
IAM_TYPES = ("_iam_member", "_iam_binding", "_iam_policy")


def _walk(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _walk(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _walk(v, key)]
    return [(key, value)]


def test_no_public_ip_anywhere(generated: Generated) -> None:
    for rtype, _name, body in generated.resources():
        pairs = _walk(body)
        assert ("ipv4_enabled", True) not in pairs
        assert "authorized_networks" not in json.dumps(body)
        if rtype == "google_sql_database_instance":
            (settings,) = body["settings"]
            (ip,) = settings["ip_configuration"]
            assert ip["ipv4_enabled"] is False
            assert ip["private_network"] == "${google_compute_network.main.id}"


def test_no_primitive_roles_and_no_project_wide_secret_access(generated: Generated) -> None:
    for rtype, name, body in generated.resources():
        role = body.get("role")
        if role is None:
            continue
        assert role not in PRIMITIVE_ROLES, f"{rtype}.{name}"
        if rtype.startswith("google_project_iam"):
            assert not role.startswith("roles/secretmanager."), f"{rtype}.{name} grants secrets project-wide"
        assert rtype.endswith("_iam_member"), "authoritative bindings would remove other members"
    text = "\n".join(generated.files.values())
    for role in PRIMITIVE_ROLES:
        assert role not in text


def test_accessor_bindings_are_per_secret_and_per_service(generated: Generated) -> None:
    accessor = generated.resource("google_secret_manager_secret_iam_member", "accessor")
    assert accessor["for_each"] == "${local.secret_accessors}"
    assert accessor["role"] == "roles/secretmanager.secretAccessor"
    assert accessor["secret_id"] == "${google_secret_manager_secret.secret[each.value.secret].secret_id}"
    assert accessor["member"] == "serviceAccount:${local.service_account_emails[each.value.service]}"
    for target in generated.targets:
        inputs = generated.inputs(target.env_name)
        for name, svc in target.config.services.items():
            # a job runs as its service's account, which reads the job's secrets too
            job_keys = [k for j in target.config.jobs.values() if j.service == name for k in j.secrets]
            expected = service_secret_keys(svc)
            expected += [k for k in dict.fromkeys(job_keys) if k not in expected]
            assert inputs["services"][name]["secrets"] == expected
        declared = {k for svc in target.config.services.values() for k in service_secret_keys(svc)}
        declared |= set(target.config.secrets.extra)
        assert inputs["secrets"] == {key: target.secret_id(key) for key in declared}
    # What the for_each expressions expand to is checked with the real terraform binary in
    # tests/integration/infra/test_generated_module.py.


def test_cloudsql_client_only_for_database_users(generated: Generated) -> None:
    has_databases = any(t.config.databases for t in generated.targets)
    names = {(t, n) for t, n, _ in generated.resources()}
    if not has_databases:
        assert ("google_project_iam_member", "cloudsql_client") not in names
        assert "databases.tf" not in generated.files
        return
    client = generated.resource("google_project_iam_member", "cloudsql_client")
    assert client["for_each"] == "${local.sql_clients}"
    assert client["role"] == "roles/cloudsql.client"
    for target in generated.targets:
        services = generated.inputs(target.env_name)["services"]
        for name, svc in target.config.services.items():
            assert services[name]["databases"] == list(svc.databases)


def test_databases_private_backed_up_and_protected_in_production(generated: Generated) -> None:
    for target in generated.targets:
        inputs = generated.inputs(target.env_name)
        for name, db in target.config.databases.items():
            entry = inputs["databases"][name]
            expected = target.production if db.deletion_protection is None else db.deletion_protection
            assert entry["deletion_protection"] is expected
            if target.production and db.deletion_protection is None:
                assert entry["deletion_protection"] is True
            assert entry["backups"] is db.backups
            assert entry["version"] == db.version
            assert entry["tier"] == db.tier
            assert entry["url_secret_id"] == target.secret_id(database_url_secret_key(name))
    if any(t.config.databases for t in generated.targets):
        instance = generated.resource("google_sql_database_instance", "db")
        assert instance["deletion_protection"] == "${each.value.deletion_protection}"
        (settings,) = instance["settings"]
        assert settings["deletion_protection_enabled"] == "${each.value.deletion_protection}"
        (backup,) = settings["backup_configuration"]
        assert backup["enabled"] == "${each.value.backups}"
        assert "point_in_time_recovery" in backup["point_in_time_recovery_enabled"]
        assert "point_in_time_recovery" in backup["binary_log_enabled"]
        (ip,) = settings["ip_configuration"]
        assert ip["ssl_mode"] == "ENCRYPTED_ONLY" and ip["ipv4_enabled"] is False
        version = generated.resource("google_secret_manager_secret_version", "database_url")
        assert "private_ip_address" in version["secret_data_wo"]
        # The URL shapes per engine (evaluated by terraform in tests/integration/infra/test_database_engines.py).
        formats = generated.tf("locals.tf")["locals"][0]["database_url_formats"]
        assert "?sslmode=require" in formats and "?ssl-mode=REQUIRED" in formats
        assert "database_url_formats" in version["secret_data_wo"]
        assert "ephemeral.random_password.db[each.key].result" in version["secret_data_wo"]
        passwords = {name: body for _, name, body in generated.resources("ephemeral")}
        assert set(passwords) <= {"db", "mysql_root"} and "db" in passwords
        assert all(p["length"] >= 32 for p in passwords.values())
        # An automatic disk resize must never turn into a plan to replace the instance.
        (lifecycle,) = instance["lifecycle"]
        assert "settings[0].disk_size" in str(lifecycle["ignore_changes"])


def test_no_secret_reaches_the_terraform_state(generated: Generated) -> None:
    """Passwords are ephemeral and go only into write-only arguments: nothing secret is stored in state."""
    assert not [r for r in generated.resources() if r[0] == "random_password"], "random_password keeps its value"
    for rtype, name, body in generated.resources():
        if rtype == "google_sql_user":
            assert "password" not in body and body["password_wo"].startswith("${ephemeral.random_password."), name
            assert body["password_wo_version"] == "${each.value.password_version}"
        if rtype == "google_secret_manager_secret_version" and name == "cache_ca":
            # A CA certificate is public: the only version written plainly, and only from the instance's certs.
            assert body["secret_data"].startswith("${join(") and "server_ca_certs" in body["secret_data"]
            assert "auth_string" not in body["secret_data"]
        elif rtype == "google_secret_manager_secret_version" and name == "cache_url":
            # The AUTH string reaches the secret write-only; a new instance replaces the version.
            assert "secret_data" not in body and "auth_string" in body["secret_data_wo"]
            assert body["lifecycle"][0]["replace_triggered_by"] == ["${google_redis_instance.cache[each.key].id}"]
        elif rtype == "google_secret_manager_secret_version":
            assert "secret_data" not in body and body["secret_data_wo_version"] == "${each.value.password_version}"
    # The user's password and the DATABASE_URL version are written from one ephemeral value in one run.
    if any(t.config.databases for t in generated.targets):
        user = generated.resource("google_sql_user", "db")
        version = generated.resource("google_secret_manager_secret_version", "database_url")
        assert user["password_wo"].strip("${}") in version["secret_data_wo"]
    versions = "\n".join(generated.files.get(n, "") for n in generated.files if n.endswith("versions.tf"))
    assert 'required_version = ">= 1.11"' in versions


def test_subscriptions_never_expire(generated: Generated) -> None:
    # Pub/Sub deletes a subscription idle for 31 days unless its expiration policy has an empty ttl.
    for rtype, name, body in generated.resources():
        if rtype == "google_pubsub_subscription":
            (policy,) = body["expiration_policy"]
            assert policy["ttl"] == "", name


def test_secret_values_never_in_generated_files(generated: Generated) -> None:
    # Only containers: no secret version except the database URL built from random_password and a cache's
    # URL and CA certificate, all built from resource attributes (no value written in the files).
    versions = {n for t, n, _ in generated.resources() if t == "google_secret_manager_secret_version"}
    assert versions <= {"database_url", "cache_url", "cache_ca"}
    assert not any(name.endswith((".tfvars", ".tfvars.json")) for name in generated.files)


def test_connector_or_direct_vpc(generated: Generated) -> None:
    from shipit.render.terraform import vpc_mode

    for target in generated.targets:
        inputs = generated.inputs(target.env_name)
        modes = {vpc_mode(svc) for svc in target.config.services.values()}
        if "connector" in modes:
            assert inputs["connector"]["cidr"] == target.config.infra.connector_cidr
            assert len(inputs["connector"]["name"]) <= 25
        else:
            assert inputs.get("connector") in (None, "null")
        if modes - {None}:
            assert inputs["network"]["subnet_cidr"] == target.config.infra.subnet_cidr


def test_pubsub_push_uses_oidc(generated: Generated) -> None:
    if "pubsub.tf" not in generated.files:
        assert not any(t.config.pubsub for t in generated.targets)
        return
    sub = generated.resource("google_pubsub_subscription", "subscription")
    (push,) = sub["dynamic"][0]["push_config"]["content"] if "dynamic" in sub else [None]
    assert push is not None
    (oidc,) = push["oidc_token"]
    assert oidc["service_account_email"] == "${google_service_account.pubsub_push[0].email}"
    # Invoking is granted per service by the services step, never project-wide.
    project_roles = [body["role"] for t, _, body in generated.resources() if t == "google_project_iam_member"]
    assert "roles/run.invoker" not in project_roles


def test_backend_per_environment(generated: Generated) -> None:
    for target in generated.targets:
        doc = generated.tf(f"environments/{target.env_name}/main.tf")
        (terraform,) = doc["terraform"]
        (backend,) = terraform["backend"]
        if target.config.infra.backend == "local":
            assert list(backend) == ["local"]
        else:
            assert backend["gcs"]["bucket"] == target.state_bucket
            assert backend["gcs"]["prefix"] == f"{target.app}/{target.env_name}"
        (provider,) = doc["provider"]
        assert provider["google"]["project"] == target.project


def test_service_accounts_one_per_service(generated: Generated) -> None:
    for target in generated.targets:
        services = generated.inputs(target.env_name)["services"]
        ids = [s["account_id"] for s in services.values() if "account_id" in s]
        assert len(ids) == len(set(ids))
        assert all(6 <= len(i) <= 30 for i in ids)
        for name, svc in target.config.services.items():
            if svc.cloud_run.service_account:
                assert services[name]["service_account_email"] == svc.cloud_run.service_account
                assert "account_id" not in services[name]


def test_caches_are_private_authenticated_encrypted_and_read_per_service(generated: Generated) -> None:
    if not any(t.config.caches for t in generated.targets):
        assert "caches.tf" not in generated.files
        assert "google_redis_instance" not in "\n".join(generated.files.values())
        return
    instance = generated.resource("google_redis_instance", "cache")
    assert instance["connect_mode"] == "PRIVATE_SERVICE_ACCESS"
    assert instance["authorized_network"] == "${google_compute_network.main.id}"
    assert instance["auth_enabled"] is True
    assert instance["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    assert instance["depends_on"] == ["${google_service_networking_connection.private_services}"]
    # The private services range exists whenever a cache does, with or without a database.
    address = generated.resource("google_compute_global_address", "private_services")
    assert "length(var.caches) > 0" in address["count"]
    url = generated.resource("google_secret_manager_secret_version", "cache_url")
    assert url["secret_data_wo"].startswith("rediss://:${google_redis_instance.cache[each.key].auth_string}@")
    assert url["secret_data_wo"].endswith("/0")
    for secret, key in (("cache_url", "cache_url_accessor"), ("cache_ca", "cache_ca_accessor")):
        accessor = generated.resource("google_secret_manager_secret_iam_member", key)
        assert accessor["for_each"] == "${local.cache_accessors}"
        assert accessor["role"] == "roles/secretmanager.secretAccessor"
        assert accessor["secret_id"] == f"${{google_secret_manager_secret.{secret}[each.value.cache].secret_id}}"
        assert accessor["member"] == "serviceAccount:${local.service_account_emails[each.value.service]}"
    # No output carries the AUTH string (or the URL that holds it).
    outputs = "\n".join(text for name, text in generated.files.items() if name.endswith("outputs.tf"))
    assert "auth_string" not in outputs and "secret_data" not in outputs
    for target in generated.targets:
        inputs = generated.inputs(target.env_name)
        for name, svc in target.config.services.items():
            # a job runs as its service's account, which reads the job's cache secrets too
            jobs = [c for j in target.config.jobs.values() if j.service == name for c in j.caches]
            assert inputs["services"][name]["caches"] == list(dict.fromkeys([*svc.caches, *jobs]))
        for name, cache in target.config.caches.items():
            entry = inputs["caches"][name]
            assert (entry["tier"], entry["memory_gb"], entry["version"]) == (cache.tier, cache.memory_gb, cache.version)
            assert re.fullmatch(r"[a-z][a-z0-9-]{0,39}[a-z0-9]", entry["instance_name"])


def test_mysql_root_gets_a_password_nobody_keeps(generated: Generated) -> None:
    """Cloud SQL for MySQL creates root@'%' with no password: the module sets a random one, write-only."""
    if "databases.tf" not in generated.files:
        return
    root = generated.resource("google_sql_user", "mysql_root")
    assert root["for_each"] == "${local.mysql_databases}"
    assert (root["name"], root["host"]) == ("root", "%")
    assert root["password_wo"] == "${ephemeral.random_password.mysql_root[each.key].result}"
    assert root["deletion_policy"] == "ABANDON"
    # That password goes nowhere else: no output, secret or local holds it.
    text = "\n".join(v for k, v in generated.files.items() if k.endswith(".tf"))
    assert text.count("ephemeral.random_password.mysql_root") == 1
