"""Cross-field rules still run when some values fail their type: one run shows every problem.

The loader drops the invalid values, validates the rest, and keeps only cross-field problems that cannot be
artefacts of the dropping (nothing about the same service, no "undefined" for a dropped name).
"""

from __future__ import annotations

from config_support import HEAD, Errors


def test_type_error_does_not_hide_cross_field_problems(errors: Errors) -> None:
    text = HEAD + (
        "services:\n  api:\n    port: eighty\n"
        "  web:\n    env: {API: '${services.apii.url}'}\n"
        "  worker:\n    cloud_run: {min_instances: 3, max_instances: 1}\n"
    )
    assert errors(text) == [
        "shipit.yaml:7:11: services.api.port: expected an integer, got 'eighty'",
        "shipit.yaml:9:16: services.web.env.API: ${services.apii.url}: service 'apii' is not defined "
        "(did you mean 'api'?)",
        "shipit.yaml:11:32: services.worker.cloud_run.min_instances: min_instances (3) is greater than "
        "max_instances (1) (lower min_instances or raise max_instances)",
    ]


def test_invalid_top_level_values_do_not_hide_references(errors: Errors) -> None:
    text = "version: 2\napp: Acme\nenvironments:\n  prod: {project: acme-prod, region: us-central1}\n"
    text += "services:\n  api:\n    env: {X: '${services.nope.url}'}\n"
    assert errors(text) == [
        "shipit.yaml:1:10: version: 2 is not allowed (use one of: 1)",
        "shipit.yaml:2:6: app: 'Acme' is not a valid app name "
        "(lowercase letters, digits and hyphens, starting with a letter, at most 20 characters)",
        "shipit.yaml:7:14: services.api.env.X: ${services.nope.url}: service 'nope' is not defined (defined: api)",
    ]


def test_no_undefined_noise_for_an_invalid_name(errors: Errors) -> None:
    # 'Api' is dropped as invalid; saying that ${services.Api.url} is undefined would be noise.
    text = HEAD + "services:\n  Api: {}\n  web:\n    env: {API: '${services.Api.url}'}\n"
    assert errors(text) == [
        "shipit.yaml:6:3: services.Api: 'Api' is not a valid Cloud Run service name (lowercase letters, digits "
        "and hyphens, starting with a letter, at most 49 characters, not ending with a hyphen)"
    ]


def test_no_cross_field_noise_from_the_same_service(errors: Errors) -> None:
    # memory is invalid; checking cpu against the default memory could only mislead.
    text = HEAD + "services:\n  api:\n    cloud_run: {cpu: 4, memory: 4GB}\n"
    assert errors(text) == [
        "shipit.yaml:7:33: services.api.cloud_run.memory: '4GB' is not a valid memory size (use e.g. 512Mi, 1Gi)"
    ]


def test_no_database_wiring_noise_when_a_databases_list_is_invalid(errors: Errors) -> None:
    text = HEAD + (
        "databases:\n  main:\n    migrate: {command: x}\n"
        "services:\n  api: {databases: [main, Bad]}\n  worker: {databases: [main]}\n"
    )
    assert errors(text) == [
        "shipit.yaml:9:27: services.api.databases[1]: 'Bad' is not a valid name "
        "(lowercase letters, digits and hyphens, starting with a letter, at most 30 characters)"
    ]


def test_without_services_cross_field_checks_cannot_run(errors: Errors) -> None:
    text = "version: 1\napp: acme\ndefault_environment: prd\nenvironments:\n"
    text += "  prod: {project: acme-prod, region: us-central1}\n"
    assert errors(text) == [
        "shipit.yaml:1:1: services: missing required key 'services'",
    ]
