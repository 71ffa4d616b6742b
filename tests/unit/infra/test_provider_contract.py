"""The generated module against the Google provider's schema, without the provider.

No provider can be downloaded here, so `terraform validate` never runs on the generated module; a wrong
argument name, a block written as an attribute, a missing required argument or an invalid enum value would
only show up at the user's first `shipit infra apply`. These tests check every resource and data block of
every configuration variant against google_provider_schema.json (transcribed from the provider's sources,
see its "source" field), and prove the checker does reject such mistakes.
"""

from __future__ import annotations

import re
import shutil
import typing

import annotated_types
import pytest
from infra_support import CONFIGS, REPO, Generated, example_targets, generate, targets_of, write_config
from provider_contract import ProviderSchema, Violation, check_files, check_text, used_types

from shipit.config.database_engines import ALL_VERSIONS, ENGINES
from shipit.config.models import Database, Subscription
from shipit.render import terraform_module as module
from shipit.render.terraform import Features

FULLSTACK = REPO / "examples" / "fullstack" / "shipit.yaml"

# Switches of the generator that CONFIGS (shared with the security tests) leave out.
VARIANTS: dict[str, str] = {
    "connector-no-database": """\
services:
  api: {cloud_run: {vpc: {mode: connector}}, secrets: [API_KEY]}
""",
    "direct-no-database": """\
services:
  api: {cloud_run: {vpc: {mode: direct, egress: all-traffic}}}
""",
    "pubsub-pull-only": """\
services:
  worker: {secrets: [TOKEN]}
pubsub:
  topics: {events: {labels: {team: data}}}
  subscriptions:
    events-pull: {topic: events, ack_deadline: 600}
""",
    "direct-multi-region": """\
services:
  api: {regions: [us-central1, us-east1], cloud_run: {vpc: {mode: direct}}}
""",
    "gcs-volumes": """\
services:
  api:
    volumes:
      uploads: {gcs: {bucket: acme-uploads}, mount: /uploads}
      media: {gcs: {bucket: acme-media, read_only: true}, mount: /media}
""",
    "everything": """\
secrets:
  replication: {automatic: false, locations: [us-central1, europe-west1]}
  extra: [SPARE_KEY]
databases:
  main: {version: "17", tier: db-perf-optimized-N-2, availability: regional, disk_autoresize: false}
  legacy: {version: "13", tier: db-custom-1-3840, point_in_time_recovery: false, env_var: LEGACY_URL}
caches:
  cache: {version: REDIS_6_X}
services:
  api: {databases: [main], caches: [cache], secrets: [STRIPE_KEY], cloud_run: {vpc: {mode: direct}}}
  worker: {databases: [main, legacy], secret_files: {/etc/key.json: GCP_KEY}}
  web: {cloud_run: {service_account: web-runner@shop-prod-1.iam.gserviceaccount.com}}
pubsub:
  topics: {jobs: {}, audit: {labels: {kind: audit}}}
  subscriptions:
    jobs-worker: {topic: jobs, push: {service: worker, path: /push}, ack_deadline: 30}
    audit-pull: {topic: audit}
""",
}

NAMES = ["example", "fullstack", *CONFIGS, *VARIANTS]

# Features.of decides which optional sections the module has; each one is exercised alone and with the others.
EXPECTED_FEATURES = {
    Features(),
    Features(network=True),
    Features(network=True, connector=True),
    Features(network=True, databases=True),
    Features(network=True, connector=True, databases=True),
    Features(network=True, connector=True, databases=True, pubsub=True),
    # shipit.yaml.example: a worker pulling from Pub/Sub and a scheduled job
    Features(network=True, connector=True, databases=True, pubsub=True, scheduler=True),
    # the fullstack example: the same, a cache, and a multi-region environment behind the global load balancer
    # (its api reaches the database from both regions: a subnet and a connector per region)
    Features(
        network=True,
        connector=True,
        databases=True,
        pubsub=True,
        scheduler=True,
        caches=True,
        load_balancer=True,
        vpc_regions=True,
    ),
    # Direct VPC egress in two regions: a subnet per region, no connector
    Features(network=True, vpc_regions=True),
    Features(pubsub=True),
    # caches without a database (the private services range is created for the caches alone), and with all
    Features(network=True, connector=True, caches=True),
    Features(network=True, connector=True, databases=True, pubsub=True, caches=True),
    # remote builds on Cloud Build: the staging bucket and the build account
    Features(remote_builds=True),
    Features(buckets=True),
}


@pytest.fixture(scope="module")
def schema() -> ProviderSchema:
    return ProviderSchema.load()


@pytest.fixture(scope="module")
def generations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Generated]:
    out: dict[str, Generated] = {}
    for name in NAMES:
        directory = tmp_path_factory.mktemp(name)
        if name == "example":
            out[name] = generate(example_targets(directory))
        elif name == "fullstack":
            shutil.copy(FULLSTACK, directory / "shipit.yaml")
            out[name] = generate(targets_of(directory / "shipit.yaml"))
        else:
            body = CONFIGS.get(name) or VARIANTS[name]
            out[name] = generate(targets_of(write_config(directory, body)))
    return out


def _report(violations: list[Violation]) -> str:
    return "the generated Terraform disagrees with the provider schema:\n" + "\n".join(map(str, violations))


@pytest.mark.parametrize("name", NAMES)
def test_generated_module_matches_provider_schema(
    name: str, generations: dict[str, Generated], schema: ProviderSchema
) -> None:
    violations = check_files(generations[name].files, schema)
    assert not violations, _report(violations)


def test_variants_cover_every_generator_switch_and_every_provider_type(
    generations: dict[str, Generated], schema: ProviderSchema
) -> None:
    features = {Features.of(g.targets) for g in generations.values()}
    assert features == EXPECTED_FEATURES
    used = set().union(*(used_types(g.files) for g in generations.values()))
    # A new resource type in the generator needs its schema recorded (check_files also flags it).
    assert used == schema.types(), f"generated but not recorded: {used - schema.types()}; " + (
        f"recorded but never generated: {schema.types() - used}"
    )
    replication = {
        tuple(g.inputs(t.env_name)["secret_replication_locations"]) for g in generations.values() for t in g.targets
    }
    assert () in replication and any(replication - {()}), "automatic and user-managed replication are both exercised"


def test_fixture_names_a_commit_for_every_type(schema: ProviderSchema) -> None:
    entries = schema.source["entries"]
    assert set(entries) == schema.types()
    for key, sources in entries.items():
        assert sources, key
        for src in sources:
            assert src["repo"].startswith("hashicorp/terraform-provider-"), key
            assert re.fullmatch(r"[0-9a-f]{40}", src["commit"]), key
            assert src["path"], key


# --- the checker itself: it must fail on broken Terraform, or the tests above prove nothing ---


def test_checker_rejects_a_misspelled_argument(schema: ProviderSchema) -> None:
    text = """\
resource "google_sql_database" "db" {
  instance = "main"
  nmae     = "app"
}
"""
    found = [str(v) for v in check_text("broken.tf", text, schema)]
    assert found == [
        "broken.tf: google_sql_database.db: nmae: unknown argument or block; did you mean 'name'?",
        "broken.tf: google_sql_database.db: name: missing required argument",
    ]


def test_checker_rejects_a_missing_required_argument_even_in_nested_blocks(schema: ProviderSchema) -> None:
    text = """\
resource "google_compute_subnetwork" "main" {
  name          = "sub"
  ip_cidr_range = "10.0.0.0/24"
}

resource "google_project_iam_member" "x" {
  project = "p"
  role    = "roles/run.invoker"
  member  = "serviceAccount:a@b.iam.gserviceaccount.com"

  condition {
    expression = "true"
  }
}
"""
    found = [str(v) for v in check_text("broken.tf", text, schema)]
    assert found == [
        "broken.tf: google_compute_subnetwork.main: network: missing required argument",
        "broken.tf: google_project_iam_member.x: condition.title: missing required argument",
    ]


def test_checker_rejects_wrong_kinds_and_values(schema: ProviderSchema) -> None:
    text = """\
resource "google_sql_database_instance" "db" {
  database_version = "PG_16"

  settings {
    tier              = "db-f1-micro"
    availability_type = "MULTI_ZONE"
    edition           = var.big ? "ENTERPRISE_PLUS" : "STANDARD"
    ip_configuration = {
      ipv4_enabled = false
    }
  }
}

resource "google_sql_user" "u" {
  instance        = "i"
  name            = "n"
  deletion_policy = "KEEP"
}

data "google_project" "p" {
  project = "x"
}
"""
    found = {(v.address, v.path): v.message for v in check_text("broken.tf", text, schema)}
    assert set(found) == {
        ("google_sql_database_instance.db", "database_version"),
        ("google_sql_database_instance.db", "settings.availability_type"),
        ("google_sql_database_instance.db", "settings.edition"),
        ("google_sql_database_instance.db", "settings.ip_configuration"),
        ("google_sql_user.u", "deletion_policy"),
        ("data.google_project.p", "project"),
    }
    assert "is a block" in found[("google_sql_database_instance.db", "settings.ip_configuration")]
    assert "'STANDARD'" in found[("google_sql_database_instance.db", "settings.edition")]


def test_checker_catches_a_typo_in_the_real_module(schema: ProviderSchema) -> None:
    broken = module.DATABASES.replace("availability_type", "availabilty_type")
    assert [str(v) for v in check_text("databases.tf", broken, schema)] == [
        "databases.tf: google_sql_database_instance.db: settings.availabilty_type: "
        "unknown argument or block; did you mean 'availability_type'?"
    ]


def test_required_nested_blocks_may_come_from_dynamic_blocks(schema: ProviderSchema) -> None:
    # replication.user_managed.replicas is required; the module writes it only through `dynamic`.
    violations = check_text("secrets.tf", module.SECRETS, schema)
    assert not violations, _report(violations)
    without = module.SECRETS.replace('dynamic "replicas"', 'dynamic "replica"')
    assert "user_managed.replicas: missing required argument" in "\n".join(
        map(str, check_text("s.tf", without, schema))
    )


def test_unknown_types_are_reported(schema: ProviderSchema) -> None:
    text = 'resource "google_sql_databse" "db" {\n  name = "x"\n}\n'
    (violation,) = check_text("x.tf", text, schema)
    assert violation.address == "google_sql_databse.db"
    assert "not in google_provider_schema.json" in violation.message


# --- values that reach enum-valued arguments through expressions, checked where they come from ---


def _arg(schema: ProviderSchema, rtype: str, *path: str) -> dict[str, typing.Any]:
    spec: dict[str, typing.Any] = dict(schema.resource[rtype])
    for name in path:
        spec = spec["arguments"][name]
    return spec


def test_every_database_version_shipit_accepts_is_a_documented_database_version(schema: ProviderSchema) -> None:
    # database_version = local.database_versions[each.key]: POSTGRES_16, MYSQL_8_4 (terraform evaluates the
    # local in tests/integration/infra/test_database_engines.py and compares it with Engine.cloud_sql_version).
    assert "database_version = local.database_versions[each.key]" in module.DATABASES
    documented = _arg(schema, "google_sql_database_instance", "database_version")["documented_values"]
    versions = typing.get_args(Database.model_fields["version"].annotation)
    assert set(versions) == set(ALL_VERSIONS)
    rendered = [e.cloud_sql_version(v) for e in ENGINES.values() for v in e.versions]
    assert "POSTGRES_16" in rendered and "MYSQL_8_4" in rendered
    assert [v for v in rendered if v not in documented] == []


def test_every_availability_shipit_accepts_is_an_allowed_availability_type(schema: ProviderSchema) -> None:
    # availability_type = upper(each.value.availability)
    assert "availability_type = upper(each.value.availability)" in module.DATABASES
    allowed = _arg(schema, "google_sql_database_instance", "settings", "availability_type")["enum"]
    values = typing.get_args(Database.model_fields["availability"].annotation)
    assert values
    assert [v for v in values if v.upper() not in allowed] == []


def test_ack_deadline_bounds_are_within_the_documented_range(schema: ProviderSchema) -> None:
    # ack_deadline_seconds = each.value.ack_deadline
    low, high = _arg(schema, "google_pubsub_subscription", "ack_deadline_seconds")["documented_range"]
    metadata = Subscription.model_fields["ack_deadline"].metadata
    ge = next(m.ge for m in metadata if isinstance(m, annotated_types.Ge))
    le = next(m.le for m in metadata if isinstance(m, annotated_types.Le))
    assert isinstance(ge, int)
    assert isinstance(le, int)
    assert low <= ge <= le <= high


def test_environment_inputs_resolve_to_allowed_values(
    generations: dict[str, Generated], schema: ProviderSchema
) -> None:
    versions = _arg(schema, "google_sql_database_instance", "database_version")["documented_values"]
    availability = _arg(schema, "google_sql_database_instance", "settings", "availability_type")["enum"]
    low, high = _arg(schema, "google_pubsub_subscription", "ack_deadline_seconds")["documented_range"]
    for name, generated in generations.items():
        for target in generated.targets:
            inputs = generated.inputs(target.env_name)
            where = f"{name}/environments/{target.env_name}/main.tf"
            for db, entry in inputs.get("databases", {}).items():
                cloud_sql = ENGINES[entry.get("engine", "postgres")].cloud_sql_version(entry["version"])
                assert cloud_sql in versions, f"{where}: databases.{db}.version"
                assert entry["availability"].upper() in availability, f"{where}: databases.{db}.availability"
            for sub, entry in inputs.get("pubsub", {}).get("subscriptions", {}).items():
                assert low <= entry["ack_deadline"] <= high, f"{where}: pubsub.subscriptions.{sub}.ack_deadline"
