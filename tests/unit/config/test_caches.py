"""The caches section: its model and its cross-field rules, with the exact rendered messages."""

from __future__ import annotations

from config_support import HEAD, Errors, Load


def test_a_cache_and_a_service_that_uses_it(load: Load) -> None:
    config = load(
        HEAD + "caches:\n  cache: {tier: STANDARD_HA, memory_gb: 5}\nservices:\n  api: {caches: [cache]}\n"
    ).base
    cache = config.caches["cache"]
    assert (cache.engine, cache.tier, cache.memory_gb, cache.version) == ("redis", "STANDARD_HA", 5, "REDIS_7_2")
    assert (cache.env_var, cache.ca_env_var) == ("REDIS_URL", "REDIS_CA_CERT")
    assert config.services["api"].caches == ("cache",)


def test_undefined_cache_in_service(errors: Errors) -> None:
    assert errors(HEAD + "caches:\n  cache: {}\nservices:\n  api: {caches: [cahce]}\n") == [
        "shipit.yaml:8:18: services.api.caches[0]: cache 'cahce' is not defined (did you mean 'cache'?)"
    ]


def test_a_cache_variable_set_twice(errors: Errors) -> None:
    text = HEAD + "caches:\n  a: {}\n  b: {}\nservices:\n  api: {caches: [a, b], secrets: [OTHER]}\n"
    assert errors(text) == [
        "shipit.yaml:9:17: services.api.caches: REDIS_CA_CERT is set by more than one cache, or also by a database, "
        "env or secrets (give the cache another env_var / ca_env_var)",
        "shipit.yaml:9:17: services.api.caches: REDIS_URL is set by more than one cache, or also by a database, "
        "env or secrets (give the cache another env_var / ca_env_var)",
    ]


def test_a_cache_variable_that_is_also_a_secret(errors: Errors) -> None:
    text = HEAD + "caches:\n  a: {}\nservices:\n  api: {caches: [a], secrets: [REDIS_URL]}\n"
    assert len(errors(text)) == 1 and "REDIS_URL is set by more than one cache" in errors(text)[0]


def test_unknown_tier_is_refused(errors: Errors) -> None:
    (message,) = errors(HEAD + "caches:\n  a: {tier: PREMIUM}\nservices:\n  api: {}\n")
    assert message.startswith("shipit.yaml:6:13: caches.a.tier:")


def test_a_cache_variable_cloud_run_sets_itself_is_refused(errors: Errors) -> None:
    (message,) = errors(HEAD + "caches:\n  a: {env_var: PORT}\nservices:\n  api: {caches: [a]}\n")
    assert "caches.a.env_var: PORT is set by Cloud Run itself (rename it)" in message


def test_an_environment_overlays_a_cache(load: Load) -> None:
    text = HEAD + "  dev: {project: acme-dev, region: us-central1}\n"
    text = text.replace("region: us-central1}\n", "region: us-central1, caches: {cache: {tier: STANDARD_HA}}}\n", 1)
    loaded = load(text + "caches:\n  cache: {memory_gb: 2}\nservices:\n  api: {caches: [cache]}\n")
    assert loaded.merged["prod"].caches["cache"].tier == "STANDARD_HA"
    assert loaded.merged["prod"].caches["cache"].memory_gb == 2
    assert loaded.merged["dev"].caches["cache"].tier == "BASIC"


def test_an_environment_overlay_of_an_undefined_cache(errors: Errors) -> None:
    text = HEAD.replace("region: us-central1}", "region: us-central1, caches: {cahce: {tier: STANDARD_HA}}}")
    (message,) = errors(text + "caches:\n  cache: {}\nservices:\n  api: {}\n")
    assert "environments.prod.caches.cahce: cache 'cahce' is not defined (did you mean 'cache'?)" in message


def test_a_job_uses_a_cache_only_with_a_service_image(errors: Errors, load: Load) -> None:
    base = HEAD + "caches:\n  cache: {}\nservices:\n  api: {}\njobs:\n"
    assert load(base + "  nightly: {service: api, caches: [cache]}\n").base.jobs["nightly"].caches == ("cache",)
    assert errors(base + "  nightly: {service: api, caches: [cahe]}\n") == [
        "shipit.yaml:10:36: jobs.nightly.caches[0]: cache 'cahe' is not defined (did you mean 'cache'?)"
    ]
    (message,) = errors(base + "  nightly: {image: busybox, caches: [cache]}\n")
    assert "jobs.nightly.caches: a job with its own image runs as the default compute account" in message
