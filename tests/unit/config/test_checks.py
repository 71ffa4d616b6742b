"""One test per cross-field rule in shipit.config.checks, with the exact rendered message."""

from __future__ import annotations

from config_support import HEAD, Errors, Load

from shipit.config.checks import deploy_order


def test_undefined_service_reference(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {}\n  web:\n    env: {API: '${services.apii.url}'}\n") == [
        "shipit.yaml:8:16: services.web.env.API: ${services.apii.url}: service 'apii' is not defined "
        "(did you mean 'api'?)"
    ]


def test_undefined_service_reference_lists_defined_ones(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {}\n  web:\n    env: {API: '${services.zz.url}'}\n") == [
        "shipit.yaml:8:16: services.web.env.API: ${services.zz.url}: service 'zz' is not defined (defined: api, web)"
    ]


def test_undefined_database_in_service(errors: Errors) -> None:
    assert errors(HEAD + "databases:\n  main: {}\nservices:\n  api: {databases: [main, mian]}\n") == [
        "shipit.yaml:8:27: services.api.databases[1]: database 'mian' is not defined (did you mean 'main'?)"
    ]


def test_undefined_database_without_any_defined(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {databases: [main]}\n") == [
        "shipit.yaml:6:21: services.api.databases[0]: database 'main' is not defined (define it under databases:)"
    ]


def test_undefined_database_reference(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    env: {DB: '${databases.main.host}'}\n") == [
        "shipit.yaml:7:15: services.api.env.DB: ${databases.main.host}: database 'main' is not defined "
        "(define it under databases:)"
    ]


def test_secret_both_plain_and_secret(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    env: {STRIPE_KEY: x}\n    secrets: [STRIPE_KEY]\n") == [
        "shipit.yaml:8:15: services.api.secrets[0]: STRIPE_KEY is both a plain env var and a secret "
        "(remove it from env)"
    ]


def test_secret_set_by_database(errors: Errors) -> None:
    text = HEAD + "databases:\n  main: {}\nservices:\n  api: {databases: [main], secrets: [DATABASE_URL]}\n"
    assert errors(text) == [
        "shipit.yaml:8:38: services.api.secrets[0]: DATABASE_URL is set by a database of this service "
        "(remove it from secrets)"
    ]


def test_two_databases_same_variable(errors: Errors) -> None:
    text = HEAD + "databases:\n  main: {}\n  other: {}\nservices:\n  api: {databases: [main, other]}\n"
    assert errors(text) == [
        "shipit.yaml:9:20: services.api.databases: two databases would both set DATABASE_URL "
        "(give one database a different env_var)"
    ]


def test_extra_secret_managed_by_database(errors: Errors) -> None:
    text = HEAD + "databases:\n  main: {}\nsecrets:\n  extra: [DATABASE_URL]\nservices:\n  api: {}\n"
    assert errors(text) == ["shipit.yaml:8:10: secrets.extra: DATABASE_URL is managed by a database (remove it)"]


def test_needs_build_or_image(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {build: null}\n") == [
        "shipit.yaml:6:8: services.api: needs either build or image (add build: {context: .})"
    ]


def test_cpu_below_one_needs_concurrency_one(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {cpu: '0.5', concurrency: 80}\n") == [
        "shipit.yaml:7:42: services.api.cloud_run.concurrency: concurrency 80 needs at least 1 CPU (cpu is 0.5) "
        "(set concurrency: 1 or cpu: 1)"
    ]


def test_cpu_below_one_default_concurrency_reported_at_cpu_block(errors: Errors) -> None:
    # concurrency is not written: the message points at the cloud_run mapping that lacks it.
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {cpu: 500m}\n") == [
        "shipit.yaml:7:16: services.api.cloud_run.concurrency: concurrency 80 needs at least 1 CPU (cpu is 500m) "
        "(set concurrency: 1 or cpu: 1)"
    ]


def test_cpu_below_one_cannot_be_always_allocated(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {cpu: '0.5', concurrency: 1, cpu_idle: false}\n") == [
        "shipit.yaml:7:55: services.api.cloud_run.cpu_idle: always-allocated CPU needs at least 1 CPU (cpu is 0.5) "
        "(set cpu: 1 or cpu_idle: true)"
    ]


def test_memory_needs_whole_cpu(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {cpu: '0.5', concurrency: 1, memory: 1Gi}\n") == [
        "shipit.yaml:7:53: services.api.cloud_run.memory: 1Gi needs at least 1 CPU (cpu is 0.5) "
        "(use at most 512Mi or cpu: 1)"
    ]


def test_memory_above_cpu_ceiling(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {cpu: 2, memory: 16Gi}\n") == [
        "shipit.yaml:7:33: services.api.cloud_run.memory: 16Gi is more than 2 CPU allows (8Gi) "
        "(raise cpu or lower memory)"
    ]


def test_memory_below_cpu_floor(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {cpu: 4, memory: 1Gi}\n") == [
        "shipit.yaml:7:33: services.api.cloud_run.memory: 4 CPUs need at least 2Gi of memory (got 1Gi) "
        "(raise memory or lower cpu)"
    ]


def test_gen2_needs_512mi(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {execution_environment: gen2, memory: 256Mi}\n") == [
        "shipit.yaml:7:54: services.api.cloud_run.memory: the gen2 execution environment needs at least 512Mi "
        "(got 256Mi)"
    ]


def test_min_instances_above_max(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    cloud_run: {min_instances: 5, max_instances: 2}\n") == [
        "shipit.yaml:7:32: services.api.cloud_run.min_instances: min_instances (5) is greater than max_instances (2) "
        "(lower min_instances or raise max_instances)"
    ]


def test_min_equal_max_is_fine(load: Load) -> None:
    load(HEAD + "services:\n  api:\n    cloud_run: {min_instances: 2, max_instances: 2}\n")


def test_reference_syntax_unknown_kind(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    env: {X: '${foo}'}\n") == [
        "shipit.yaml:7:14: services.api.env.X: '${foo}' is not a valid reference (use ${services.NAME.url}, "
        "${databases.NAME.url}, ${environment.project}, ${app} or ${env.VAR}; write $${ for a literal)"
    ]


def test_reference_syntax_unknown_attribute(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api: {}\n  web:\n    env: {X: '${services.api.uri}'}\n") == [
        "shipit.yaml:8:14: services.web.env.X: '${services.api.uri}' has no attribute 'uri' (use one of: name, url)"
    ]


def test_reference_syntax_unclosed(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    env: {X: 'abc ${services'}\n") == [
        "shipit.yaml:7:14: services.api.env.X: unclosed '${' in 'abc ${services' (write $${ for a literal)"
    ]


def test_reference_in_local_env_is_checked(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    local:\n      env: {X: '${services.nope.url}'}\n") == [
        "shipit.yaml:8:16: services.api.local.env.X: ${services.nope.url}: service 'nope' is not defined (defined: api)"
    ]


def test_valid_references_and_literal_dollar(load: Load) -> None:
    text = HEAD + (
        "databases:\n  main: {}\nservices:\n  api:\n    databases: [main]\n"
        "    env: {A: '${app}-${environment.project}', B: '${env.GIT_SHA}', C: '$${literal}',"
        " D: '${databases.main.port}'}\n"
        "  web:\n    env: {API: '${services.api.url}'}\n"
    )
    load(text)


def test_service_cannot_use_its_own_url(errors: Errors) -> None:
    assert errors(HEAD + "services:\n  api:\n    env: {SELF: '${services.api.url}'}\n") == [
        "shipit.yaml:7:17: services.api.env.SELF: ${services.api.url}: a service cannot depend on its own URL "
        "(Cloud Run sets K_SERVICE; build the URL in code)"
    ]


def test_dependency_cycle_two_services(errors: Errors) -> None:
    text = HEAD + "services:\n  a:\n    env: {B: '${services.b.url}'}\n  b:\n    env: {A: '${services.a.url}'}\n"
    assert errors(text) == [
        "shipit.yaml:7:10: services.a.env: dependency cycle between service URLs: a -> b -> a "
        "(one service must learn the other's URL another way)"
    ]


def test_dependency_cycle_three_services_reported_once(errors: Errors) -> None:
    text = HEAD + (
        "services:\n  a:\n    env: {X: '${services.b.url}'}\n  b:\n    env: {X: '${services.c.url}'}\n"
        "  c:\n    env: {X: '${services.a.url}'}\n"
    )
    assert errors(text) == [
        "shipit.yaml:7:10: services.a.env: dependency cycle between service URLs: a -> b -> c -> a "
        "(one service must learn the other's URL another way)"
    ]


def test_local_env_references_do_not_make_cycles(load: Load) -> None:
    # Locally every URL is known up front (http://NAME:PORT), so only deployed env counts.
    text = HEAD + (
        "services:\n  a:\n    env: {B: '${services.b.url}'}\n  b:\n    local:\n      env: {A: '${services.a.url}'}\n"
    )
    loaded = load(text)
    assert deploy_order(loaded.base) == [["b"], ["a"]]


def test_deploy_order_waves(load: Load) -> None:
    text = HEAD + (
        "services:\n  api: {}\n  worker: {}\n  web:\n    env: {A: '${services.api.url}', W: '${services.worker.url}'}\n"
        "  edge:\n    env: {W: '${services.web.url}'}\n"
    )
    assert deploy_order(load(text).base) == [["api", "worker"], ["web"], ["edge"]]


def test_migrate_service_undefined(errors: Errors) -> None:
    text = HEAD + "databases:\n  main:\n    migrate: {command: x, service: apii}\n"
    text += "services:\n  api: {databases: [main]}\n"
    assert errors(text) == [
        "shipit.yaml:7:36: databases.main.migrate.service: service 'apii' is not defined (did you mean 'api'?)"
    ]


def test_migrate_service_ambiguous(errors: Errors) -> None:
    text = HEAD + (
        "databases:\n  main:\n    migrate: {command: x}\nservices:\n  api: {databases: [main]}\n"
        "  worker: {databases: [main]}\n"
    )
    assert errors(text) == [
        "shipit.yaml:7:14: databases.main.migrate: cannot tell which service's image runs the migration "
        "(set migrate.service to one of: api, worker)"
    ]


def test_migrate_without_any_user(errors: Errors) -> None:
    text = HEAD + "databases:\n  main:\n    migrate: {command: x}\nservices:\n  api: {}\n"
    assert errors(text) == [
        "shipit.yaml:7:14: databases.main.migrate: cannot tell which service's image runs the migration "
        "(set migrate.service to one of: (no service uses it))"
    ]


def test_pubsub_topic_undefined(errors: Errors) -> None:
    text = HEAD + "services:\n  api: {}\npubsub:\n  topics: {jobs: {}}\n  subscriptions:\n    sub1: {topic: jobz}\n"
    assert errors(text) == [
        "shipit.yaml:10:19: pubsub.subscriptions.sub1.topic: topic 'jobz' is not defined (did you mean 'jobs'?)"
    ]


def test_pubsub_push_service_undefined(errors: Errors) -> None:
    text = HEAD + (
        "services:\n  worker: {}\npubsub:\n  topics: {jobs: {}}\n  subscriptions:\n"
        "    sub1: {topic: jobs, push: {service: wrker}}\n"
    )
    assert errors(text) == [
        "shipit.yaml:10:41: pubsub.subscriptions.sub1.push.service: service 'wrker' is not defined "
        "(did you mean 'worker'?)"
    ]


def test_default_environment_undefined(errors: Errors) -> None:
    assert errors("default_environment: prd\n" + HEAD + "services:\n  api: {}\n") == [
        "shipit.yaml:1:22: default_environment: environment 'prd' is not defined (did you mean 'prod'?)"
    ]


def test_overlay_for_undefined_service(errors: Errors) -> None:
    text = (
        "version: 1\napp: acme\nenvironments:\n  prod:\n    project: acme-prod\n    region: us-central1\n"
        "    services:\n      wbe: {port: 80}\n    databases:\n      main: {tier: db-g1-small}\n"
        "services:\n  web: {}\n"
    )
    assert errors(text) == [
        "shipit.yaml:8:7: environments.prod.services.wbe: service 'wbe' is not defined (did you mean 'web'?)",
        "shipit.yaml:10:7: environments.prod.databases.main: database 'main' is not defined "
        "(define it under databases:)",
    ]


def test_every_problem_is_reported_at_once(errors: Errors) -> None:
    text = HEAD + (
        "services:\n  api:\n    cloud_run: {min_instances: 3, max_instances: 1}\n"
        "  web:\n    env: {A: '${services.nope.url}'}\n"
    )
    assert errors(text) == [
        "shipit.yaml:7:32: services.api.cloud_run.min_instances: min_instances (3) is greater than max_instances (1) "
        "(lower min_instances or raise max_instances)",
        "shipit.yaml:9:14: services.web.env.A: ${services.nope.url}: service 'nope' is not defined (defined: api, web)",
    ]


def test_default_environment_undefined_lists_defined_ones(errors: Errors) -> None:
    assert errors("default_environment: production\n" + HEAD + "services:\n  api: {}\n") == [
        "shipit.yaml:1:22: default_environment: environment 'production' is not defined (defined: prod)"
    ]


def test_secret_naming_must_give_valid_ids(errors: Errors) -> None:
    body = "services:\n  api: {}\n"
    assert errors(HEAD + "secrets: {naming: '{app}/{env}/{key}'}\n" + body) == [
        "shipit.yaml:5:19: secrets.naming: '{app}/{env}/{key}' gives 'acme/prod/KEY', not a valid Secret Manager "
        "id (use letters, digits, - and _ around the placeholders)"
    ]
    assert errors(HEAD + "secrets: {naming: '{app}-{region}-{key}'}\n" + body) == [
        "shipit.yaml:5:19: secrets.naming: '{app}-{region}-{key}' uses a placeholder other than {app}, {env} and {key}"
    ]
    assert errors(HEAD + "secrets: {naming: '{app}-{env}'}\n" + body) == [
        "shipit.yaml:5:19: secrets.naming: '{app}-{env}' has no {key}: every key would share one secret "
        "(e.g. {app}-{env}-{key})"
    ]


def test_regional_database_needs_point_in_time_recovery(errors: Errors) -> None:
    text = HEAD + "databases:\n  main: {availability: regional, point_in_time_recovery: false}\nservices:\n  api: {}\n"
    assert errors(text) == [
        "shipit.yaml:6:24: databases.main.availability: regional (high-availability) Postgres needs backups and "
        "point-in-time recovery (set backups: true and point_in_time_recovery: true, or availability: zonal)"
    ]


def test_kind_defaults_to_service(load: Load) -> None:
    # What a worker may not set is checked by config/workload_checks.py (tests/unit/config/test_workloads.py).
    assert load(HEAD + "services:\n  api: {}\n").base.services["api"].kind == "service"


def test_database_version_must_belong_to_its_engine(errors: Errors) -> None:
    text = HEAD + 'databases:\n  main: {engine: mysql, version: "16"}\n  pg: {version: "8.4"}\nservices:\n  api: {}\n'
    assert errors(text) == [
        "shipit.yaml:6:34: databases.main.version: '16' is not a MySQL version (use one of: '8.0', '8.4', "
        "or remove it for '8.4')",
        "shipit.yaml:7:17: databases.pg.version: '8.4' is not a Postgres version (use one of: '13', '14', '15', "
        "'16', '17', or remove it for '16')",
    ]


def test_database_version_defaults_per_engine(load: Load) -> None:
    text = HEAD + 'databases:\n  my: {engine: mysql}\n  old: {engine: mysql, version: "8.0"}\n  pg: {}\n'
    dbs = load(text + "services:\n  api: {}\n").base.databases
    assert (dbs["my"].engine, dbs["my"].version) == ("mysql", "8.4")
    assert dbs["old"].version == "8.0"
    assert (dbs["pg"].engine, dbs["pg"].version) == ("postgres", "16")


def test_regional_mysql_needs_binary_log(errors: Errors) -> None:
    text = HEAD + "databases:\n  main: {engine: mysql, availability: regional, backups: false}\nservices:\n  api: {}\n"
    assert errors(text) == [
        "shipit.yaml:6:39: databases.main.availability: regional (high-availability) MySQL needs backups and "
        "point-in-time recovery (set backups: true and point_in_time_recovery: true, or availability: zonal)"
    ]


def test_mysql_user_names_are_at_most_32_characters(errors: Errors) -> None:
    long = "u" * 33
    text = (
        HEAD + f"databases:\n  main: {{engine: mysql, user: {long}}}\n  pg: {{user: {long}}}\nservices:\n  api: {{}}\n"
    )
    assert errors(text) == [
        "shipit.yaml:6:31: databases.main.user: MySQL user names have at most 32 characters (use a shorter name)"
    ]
