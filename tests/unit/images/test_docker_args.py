"""The docker adapter's command lines: classic builder argv and buildx arguments (secrets never in either)."""

from __future__ import annotations

from pathlib import Path

from shipit.adapters.docker import BuildSpec, buildx_kwargs, classic_build_argv

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


def test_buildx_kwargs_cache_and_no_secret_values() -> None:
    kwargs = buildx_kwargs(SPEC, "docker-container")
    assert kwargs["platforms"] == ["linux/amd64"] and kwargs["load"] is True and kwargs["provenance"] is False
    assert kwargs["cache_from"] == {"type": "registry", "ref": "reg/p/r/api:buildcache"}
    assert kwargs["cache_to"]["mode"] == "max"
    assert "npm_tok_s3cr3t" not in repr(kwargs)
    # The default docker driver cannot export caches.
    assert "cache_to" not in buildx_kwargs(SPEC, "docker")


def test_spec_repr_hides_secret_values() -> None:
    assert "npm_tok_s3cr3t" not in repr(SPEC)
