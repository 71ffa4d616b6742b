"""The docker adapter's command lines: classic builder and buildx argv (secret values never in either)."""

from __future__ import annotations

from pathlib import Path

from shipit.adapters.docker import BuildSpec, buildx_build_argv, classic_build_argv

SPEC = BuildSpec(
    context=Path("/ctx"),
    dockerfile=Path("/ctx/Dockerfile"),
    tags=("reg/p/r/api:c-1", "reg/p/r/api:git-abc"),
    target="runtime",
    args=(("A", "1"),),
    labels=(("org.opencontainers.image.revision", "abc"),),
    platform="linux/amd64",
    secrets=(("NPM_TOKEN", "npm_tok_s3cr3t"),),
    cache_repo="reg/p/r/api",
)


def test_classic_argv() -> None:
    argv = classic_build_argv("docker", SPEC, Path("/tmp/iid"))
    assert argv[:2] == ["docker", "build"]
    assert argv[argv.index("--platform") : argv.index("--platform") + 2] == ["--platform", "linux/amd64"]
    assert "--target" in argv and "A=1" in argv and "org.opencontainers.image.revision=abc" in argv
    assert argv.count("--tag") == 2 and argv[-1] == "/ctx"
    assert not any("npm_tok_s3cr3t" in a for a in argv)


def test_buildx_argv_cache_and_secrets_by_name_only() -> None:
    argv = buildx_build_argv("docker", SPEC, "docker-container")
    assert argv[:3] == ["docker", "buildx", "build"] and "--load" in argv
    assert argv[argv.index("--provenance") + 1] == "false"
    assert argv[argv.index("--platform") + 1] == "linux/amd64"
    assert argv[argv.index("--cache-from") + 1] == "type=registry,ref=reg/p/r/api:buildcache"
    assert argv[argv.index("--cache-to") + 1] == "type=registry,ref=reg/p/r/api:buildcache,mode=max"
    # The value travels in the buildx process's environment, never in argv or a file.
    assert argv[argv.index("--secret") + 1] == "id=NPM_TOKEN,env=SHIPIT_BUILD_SECRET_0"
    assert not any("npm_tok_s3cr3t" in a for a in argv)
    assert argv.count("--tag") == 2 and argv[-1] == "/ctx"
    # The default docker driver cannot export caches.
    assert "--cache-to" not in buildx_build_argv("docker", SPEC, "docker")


def test_spec_repr_hides_secret_values() -> None:
    assert "npm_tok_s3cr3t" not in repr(SPEC)
