"""The hostile corpus: malformed and malicious inputs, generated as a table (see README.md for the categories).

Every case is a small project (a valid base, with some files replaced or added) and a shipit command line. The
runner (test_hostile.py) expects exit 2, a located message, bounded CPU and memory, no network, no Docker and no
file written outside the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

PROJECT = "proj"  # the project directory's name inside the case directory
OUTSIDE = "outside"  # a sibling directory with a "secret" that hostile paths point at
CANARY = "hostile-canary-7f3a9b"  # a value that must never be echoed back


class Fifo:
    """A named pipe (reading it would block forever)."""


@dataclass(frozen=True)
class Link:
    """A symlink; ``target`` may use {outside} and {project} (absolute paths of those directories)."""

    target: str


class Dir:
    """A directory where a file is expected."""


FileSpec = bytes | str | Fifo | Link | Dir | None  # None: delete the base file


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    argv: tuple[str, ...]
    files: Mapping[str, FileSpec] = field(default_factory=dict)
    # A regex the error output must match: file:line, or the option's name.
    where: str = r"shipit\.yaml:\d+"
    # Text that must not appear anywhere in the output (pasted secrets, file contents from outside).
    never: tuple[str, ...] = (CANARY, "root:x:0:0")


BASE_CONFIG = """\
version: 1
app: acme
environments:
  staging: {{project: acme-staging, region: us-central1}}
secrets:
  env_file: .env
services:
  api:
    build: {{context: ., target: runtime}}
    port: 8080
    secrets: [STRIPE_KEY]
    env: {{LOG_LEVEL: info}}
{extra}"""
BASE_FILES: dict[str, FileSpec] = {
    "Dockerfile": "FROM scratch AS runtime\n",
    ".env": f"STRIPE_KEY={CANARY}-value\n",
}


def config(extra: str = "", *, replace: Mapping[str, str] | None = None) -> str:
    text = BASE_CONFIG.format(extra=extra)
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _yaml(case_id: str, category: str, text: str | bytes, where: str = r"shipit\.yaml:\d+") -> Case:
    return Case(case_id, category, ("validate",), {"shipit.yaml": text}, where)


def _commands() -> list[tuple[str, ...]]:
    """Commands every config-level case is also run through: they must stop before any remote or Docker call."""
    return [("validate",), ("plan", "--offline"), ("deploy", "--dry-run", "--yes"), ("build", "--dry-run")]


def yaml_syntax() -> Iterator[Case]:
    broken = {
        "unclosed-flow-map": config("x: {a: 1\n"),
        "unclosed-flow-seq": config("x: [1, 2\n"),
        "unclosed-double-quote": config('x: "abc\n'),
        "unclosed-single-quote": config("x: 'abc\n"),
        "tab-indent": config("x:\n\ty: 1\n"),
        "bad-indent": config("x:\n    y: 1\n  z: 2\n"),
        "colon-in-value": config("x: a: b\n"),
        "duplicate-top-key": config("app: other\n"),
        "duplicate-service": config("  api: {}\n", replace={"services:\n  api:": "services:\n  api: {}\n  api:"}),
        "list-key": config("[a, b]: 1\n"),
        "map-key": config("{a: 1}: 1\n"),
        "null-key": config("null: 1\n"),
        "two-documents": config("---\nversion: 1\n"),
        "undefined-alias": config("x: *nothing\n"),
        "bell-char": config("x: a\x07b\n"),
        "escape-char": config("x: a\x1bb\n"),
        "lone-surrogate-escape": config('x: "\\ud800"\n'),
        "top-level-list": "- a\n- b\n",
        "top-level-scalar": "just a string\n",
        "top-level-number": "42\n",
        "empty-file": "",
        "only-comments": "# nothing here\n",
        "only-document-marker": "---\n",
        "directive-garbage": "%FOO bar\n---\nversion: 1\n",
        "bad-directive": "%YAML 9.9\n---\nversion: 1\n",
        "stray-bracket": config("]\n"),
        "stray-brace": config("}\n"),
        "block-scalar-bad-indicator": config("x: |9999\n  a\n"),
        "anchor-without-node": config("x: &\n"),
        "alias-to-later-anchor": config("x: *later\ny: &later 1\n"),
        "question-mark-complex-key": config("? [a]\n: 1\n"),
        "windows-line-endings-tab": config("x:\r\n\ty: 1\r\n"),
        "very-long-line-unknown-key": config("k" * 50_000 + ": 1\n"),
        "unknown-key-with-newline-value": config('weird: "a\\nb"\n'),
        "version-2": config(replace={"version: 1": "version: 2"}),
        "version-string": config(replace={"version: 1": 'version: "1"'}),
        "missing-services": "version: 1\napp: acme\nenvironments:\n  s: {project: acme-staging, region: us-central1}\n",
        "missing-environments": "version: 1\napp: acme\nservices:\n  api: {}\n",
        "services-is-list": config(replace={"services:\n  api:": "services:\n- api\nx:\n  api:"}),
        "environments-is-string": config(replace={"environments:\n  staging:": "environments: x\ny:\n  staging:"}),
    }
    for name, text in broken.items():
        yield _yaml(f"yaml-syntax-{name}", "yaml-syntax", text)
    for line in (1, 3, 8, 12):
        text = config().splitlines(keepends=True)
        text[line - 1] = text[line - 1].rstrip("\n") + "\x00\n"
        yield _yaml(f"yaml-nul-line-{line}", "yaml-syntax", "".join(text), rf"shipit\.yaml:{line}:")
    for line in (2, 9, 12):
        raw = config().encode().splitlines(keepends=True)
        raw[line - 1] = raw[line - 1].rstrip(b"\n") + b" \xff\xfe\n"
        yield _yaml(f"yaml-bad-utf8-line-{line}", "yaml-syntax", b"".join(raw), rf"shipit\.yaml:{line}:")


def _laughs(levels: int, fanout: int) -> str:
    lines = ["a0: &a0 [lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fanout) + "]")
    return config("\n".join(lines) + "\n")


def yaml_resources() -> Iterator[Case]:
    for levels, fanout in ((9, 9), (12, 10), (30, 2), (5, 40), (20, 5), (3, 200)):
        yield _yaml(f"yaml-alias-bomb-{levels}x{fanout}", "yaml-resources", _laughs(levels, fanout))
    merge_bomb = ["m0: &m0 {k: v}"]
    for i in range(1, 12):
        merge_bomb.append(f"m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 8) + f"], k{i}: v}}")
    yield _yaml("yaml-merge-bomb", "yaml-resources", config("\n".join(merge_bomb) + "\n"))
    for depth in (100, 1000, 20_000):
        yield _yaml(f"yaml-deep-flow-seq-{depth}", "yaml-resources", config("x: " + "[" * depth + "]" * depth + "\n"))
        yield _yaml(
            f"yaml-deep-flow-map-{depth}", "yaml-resources", config("x: " + "{a: " * depth + "1" + "}" * depth + "\n")
        )
    block = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"
    yield _yaml("yaml-deep-block-map", "yaml-resources", config(block))
    yield _yaml(
        "yaml-deep-block-seq",
        "yaml-resources",
        config("x:\n" + "".join("  " * i + "-\n" for i in range(1, 150)) + "  " * 150 + "- 1\n"),
    )
    recursive = {
        "seq": "x: &r [*r]\n",
        "map": "x: &r {a: *r}\n",
        "merge-self": "x: &r\n  <<: *r\n",
        "merge-list-self": "x: &r\n  <<: [*r]\n",
        "nested": "x: &r {a: [1, {b: *r}]}\n",
        "in-services": None,
    }
    for name, extra in recursive.items():
        if extra is None:
            text = config(replace={"    env: {LOG_LEVEL: info}": "    env: &e {LOG_LEVEL: *e}"})
        else:
            text = config(extra)
        yield _yaml(f"yaml-recursive-alias-{name}", "yaml-resources", text)
    merges = {
        "scalar": "b: &b 3\nx:\n  <<: *b\n",
        "list-of-scalars": "b: &b 3\nx:\n  <<: [*b, *b]\n",
        "null": "x:\n  <<: null\n",
        "literal-scalar": "x:\n  <<: hello\n",
        "list-with-list": "b: &b [1]\nx:\n  <<: [*b]\n",
        "list-of-inline-scalars": "x:\n  <<: [1, 2]\n",
    }
    for name, extra in merges.items():
        yield _yaml(f"yaml-merge-not-mapping-{name}", "yaml-resources", config(extra))
    yield Case(
        "yaml-too-large",
        "yaml-resources",
        ("validate",),
        {"shipit.yaml": config() + ("#" * 1023 + "\n") * 1100},
        r"shipit\.yaml: file is \d+ bytes",
    )
    for count in (60, 5000):
        many = "".join(f"unknown_{i}: 1\n" for i in range(count))
        yield _yaml(f"yaml-unknown-keys-{count}", "yaml-resources", config(many))
    many_services = "".join(f"  s{i}: {{port: true}}\n" for i in range(300))
    yield _yaml(
        "yaml-300-bad-services",
        "yaml-resources",
        config(replace={"services:\n  api:": "services:\n" + many_services + "  api:"}),
    )
    yield _yaml(
        "yaml-huge-env-value",
        "yaml-resources",
        config(replace={"LOG_LEVEL: info": "LOG_LEVEL: info, BIG: " + "x" * 600_000}),
    )


def yaml_tags() -> Iterator[Case]:
    tags = {
        "python-object": "x: !!python/object:os.system ls\n",
        "python-apply": "x: !!python/object/apply:os.system [ls]\n",
        "python-name": "x: !!python/name:os.system\n",
        "python-module": "x: !!python/module:os\n",
        "binary": "x: !!binary aGVsbG8=\n",
        "set": "x: !!set {a, b}\n",
        "omap": "x: !!omap [{a: 1}]\n",
        "pairs": "x: !!pairs [{a: 1}]\n",
        "custom-scalar": "x: !secret value\n",
        "custom-map": "x: !thing {a: 1}\n",
        "custom-seq": "x: !thing [1]\n",
        "verbatim": "x: !<tag:example.com,2000:thing> v\n",
        "env-tag": "x: !ENV ${HOME}\n",
        "include-tag": "x: !include /etc/passwd\n",
        "long-tag": "x: !" + "t" * 5000 + " v\n",
    }
    for name, extra in tags.items():
        yield _yaml(f"yaml-tag-{name}", "yaml-tags", config(extra))
    yield _yaml(
        "yaml-tag-on-port",
        "yaml-tags",
        config(replace={"port: 8080": "port: !!python/object/apply:int [8080]"}),
    )


def schema_values() -> Iterator[Case]:
    port_values = ["true", "false", "yes", '"x"', "0", "70000", "-1", "1.5", "null", "[8080]", "{a: 1}"]
    for value in port_values:
        slug = value.strip('"[]{}: ').replace(" ", "") or "empty"
        yield _yaml(f"value-port-{slug}", "schema-values", config(replace={"port: 8080": f"port: {value}"}))
    cloud_run = {
        "min-true": "min_instances: true",
        "max-zero": "max_instances: 0",
        "min-gt-max": "min_instances: 10, max_instances: 2",
        "concurrency-bool": "concurrency: false",
        "memory-garbage": "memory: lots",
        "memory-huge": "memory: 64Gi",
        "cpu-3": "cpu: 3",
        "cpu-text": "cpu: fast",
        "timeout-bool": "timeout: true",
        "timeout-negative": "timeout: -5",
        "timeout-garbage": "timeout: 5x",
        "ingress-bad": "ingress: public",
        "service-account-bad": "service_account: not-an-email",
        "label-key-upper": "labels: {Team: x}",
        "label-value-upper": "labels: {team: X}",
        "label-value-newline": 'labels: {team: "a\\nb"}',
        "command-not-list": "command: {a: 1}",
    }
    for name, text in cloud_run.items():
        yield _yaml(
            f"value-cloud-run-{name}",
            "schema-values",
            config(replace={"    port: 8080": f"    port: 8080\n    cloud_run: {{{text}}}"}),
        )
    for name, text in {
        "test-empty-string": 'test: {command: ""}\n',
        "test-empty-list": "test: {command: []}\n",
        "test-blank": 'test: {command: "   "}\n',
        "test-null": "test: {command: null}\n",
        "test-unclosed-quote": 'test: {command: "pytest \'x"}\n',
        "migrate-empty": 'databases:\n  main: {migrate: {command: ""}}\n',
        "migrate-empty-list": "databases:\n  main: {migrate: {command: []}}\n",
    }.items():
        yield _yaml(f"value-command-{name}", "schema-values", config(text))
    projects = [
        "google-app",
        "my-google-x",
        "acme",
        "Acme-staging",
        "acme-staging-",
        "1acme-staging",
        "a" * 31,
        "acme_staging",
        "acme.staging",
        "acme staging",
    ]
    for i, project in enumerate(projects):
        yield _yaml(
            f"value-project-id-{i}",
            "schema-values",
            config(replace={"project: acme-staging": f"project: '{project}'"}),
        )
    for region in ("us-central", "US-CENTRAL1", "mars", "us-central1; rm -rf /"):
        slug = region.replace(" ", "").replace(";", "").replace("/", "")[:20]
        yield _yaml(
            f"value-region-{slug}", "schema-values", config(replace={"region: us-central1": f"region: '{region}'"})
        )
    for name in ("Api", "a" * 50, "api-", "1api", "api_x", "api.x", "ápi", "api\\nx"):
        slug = name.encode("ascii", "replace").decode()[:20].replace("?", "q").replace("\\", "")
        yield _yaml(
            f"value-service-name-{slug}",
            "schema-values",
            config(replace={"services:\n  api:": f'services:\n  "{name}":'}),
        )
    for app in ("Acme", "a" * 21, "acme-", "ac me", "acme\\n"):
        slug = app[:12].replace(" ", "_").replace("\\", "")
        yield _yaml(f"value-app-name-{slug}", "schema-values", config(replace={"app: acme": f'app: "{app}"'}))
    for var in (
        "PORT",
        "K_SERVICE",
        "K_REVISION",
        "K_CONFIGURATION",
        "CLOUD_RUN_JOB",
        "CLOUD_RUN_EXECUTION",
        "CLOUD_RUN_TASK_INDEX",
        "CLOUD_RUN_TASK_ATTEMPT",
        "CLOUD_RUN_TASK_COUNT",
    ):
        yield _yaml(f"value-reserved-env-{var}", "schema-values", config(replace={"LOG_LEVEL: info": f"{var}: x"}))
    yield _yaml(
        "value-reserved-secret-PORT",
        "schema-values",
        config(replace={"secrets: [STRIPE_KEY]": "secrets: [STRIPE_KEY, PORT]"}),
    )
    for var in ("1X", "A-B", "A B", "A=B", "A\\nB", ""):
        slug = var.replace(" ", "_").replace("=", "eq").replace("\\", "") or "empty"
        yield _yaml(f"value-env-name-{slug}", "schema-values", config(replace={"LOG_LEVEL: info": f'"{var}": x'}))
    yield _yaml("value-env-value-33k", "schema-values", config(replace={"LOG_LEVEL: info": "BIG: " + "y" * 33_000}))
    yield _yaml(
        "value-env-ref-declared-secret",
        "schema-values",
        config(replace={"LOG_LEVEL: info": "LOG_LEVEL: info, KEY_COPY: ${env.STRIPE_KEY}"}),
    )
    for ref in (
        "${nope}",
        "${services.nope.url}",
        "${services.api.port}",
        "${databases.x.url}",
        "${env.}",
        "${",
        "${app",
    ):
        slug = "".join(c for c in ref if c.isalnum()) or "bare"
        yield _yaml(
            f"value-bad-ref-{slug}", "schema-values", config(replace={"LOG_LEVEL: info": f"LOG_LEVEL: '{ref}'"})
        )
    for name, cidr in {
        "prefix-99": "10.0.0.0/99",
        "octet-999": "999.0.0.0/20",
        "public": "8.8.8.0/24",
        "host-bits": "10.0.0.1/24",
        "slash-30": "10.0.0.0/30",
        "overlap": "10.8.0.0/24",
        "ipv6": "fd00::/64",
        "garbage": "ten/8",
    }.items():
        yield _yaml(f"value-subnet-{name}", "schema-values", config(f"infra: {{subnet_cidr: '{cidr}'}}\n"))
    for name, cidr in {"prefix-24": "10.8.0.0/24", "octet-300": "300.8.0.0/28", "host-bits": "10.8.0.1/28"}.items():
        yield _yaml(f"value-connector-{name}", "schema-values", config(f"infra: {{connector_cidr: '{cidr}'}}\n"))
    naming = {
        "no-key": "{app}-{env}",
        "bad-placeholder": "{app}-{region}-{key}",
        "dots": "{app}.{env}.{key}",
        "overflow": "{app}-{env}-" + "x" * 240 + "-{key}",
        "format-attack": "{key.__class__}",
        "unbalanced": "{app-{key}",
    }
    for name, pattern in naming.items():
        yield _yaml(
            f"value-secret-naming-{name}",
            "schema-values",
            config(replace={"  env_file: .env": f"  env_file: .env\n  naming: '{pattern}'"}),
        )
    for name, mount in {
        "traversal": "../../etc/evil",
        "root": "/",
        "relative": "secrets/key.json",
        "dotdot-inside": "/secrets/../etc/key",
        "double-slash": "//secrets/key",
        "top-level-file": "/key.json",
        "trailing-slash": "/secrets/key/",
        "dot-segment": "/secrets/./key",
    }.items():
        yield _yaml(
            f"value-secret-file-{name}",
            "schema-values",
            config(
                replace={
                    "    secrets: [STRIPE_KEY]": "    secrets: [STRIPE_KEY]\n"
                    + f"    secret_files: {{'{mount}': STRIPE_KEY}}"
                }
            ),
        )
    generator_inputs = {
        "registry-repo-space": "registry: {repository: 'Bad Repo'}\n",
        "registry-location-bad": "registry: {location: 'us central'}\n",
        "database-name-upper": "databases:\n  main: {name: Main}\n",
        "database-user-quote": 'databases:\n  main: {user: "a\'b"}\n',
        "database-tier-bad": "databases:\n  main: {tier: huge}\n",
        "database-version-bad": "databases:\n  main: {version: '9'}\n",
        "database-key-upper": "databases:\n  Main: {}\n",
        "pubsub-goog-topic": "pubsub: {topics: {googtopic: {}}}\n",
        "pubsub-short-topic": "pubsub: {topics: {ab: {}}}\n",
        "pubsub-unknown-topic": "pubsub: {subscriptions: {sub1: {topic: nope}}}\n",
        "probe-path-relative": None,
        "health-path-relative": None,
        "build-platform": None,
        "secret-key-newline": None,
        "build-arg-name": None,
        "local-env-name": None,
    }
    replacements = {
        "probe-path-relative": {
            "    port: 8080": "    port: 8080\n    cloud_run: {probes: {startup: {path: healthz}}}"
        },
        "health-path-relative": {"    port: 8080": "    port: 8080\n    health: {path: 'x; rm -rf /'}"},
        "build-platform": {"target: runtime}": "target: runtime, platform: 'windows/amd64'}"},
        "secret-key-newline": {"secrets: [STRIPE_KEY]": 'secrets: ["STRIPE\\nKEY"]'},
        "build-arg-name": {"target: runtime}": "target: runtime, args: {'A B': x}}"},
        "local-env-name": {"    port: 8080": "    port: 8080\n    local: {env: {'X=Y': z}}"},
    }
    for name, extra in generator_inputs.items():
        text = config(extra) if extra is not None else config(replace=replacements[name])
        yield _yaml(f"generator-{name}", "generator-inputs", text)


def paths() -> Iterator[Case]:
    env_files = {
        "etc-passwd": "/etc/passwd",
        "traversal": "../../../../etc/passwd",
        "sibling": f"../{OUTSIDE}/secret.txt",
        "dev-zero": "/dev/zero",
        "proc": "/proc/self/environ",
    }
    for name, path in env_files.items():
        yield _yaml(f"path-env-file-{name}", "paths", config(replace={"  env_file: .env": f"  env_file: '{path}'"}))
        yield _yaml(
            f"path-env-file-per-env-{name}",
            "paths",
            config(replace={"us-central1}": f"us-central1, secrets: {{env_file: '{path}'}}}}"}),
        )
    yield Case(
        "path-env-file-symlink-out",
        "paths",
        ("validate",),
        {
            "shipit.yaml": config(replace={"  env_file: .env": "  env_file: linked.env"}),
            "linked.env": Link("{outside}/secret.txt"),
        },
    )
    yield Case(
        "path-env-file-symlink-loop",
        "paths",
        ("validate",),
        {"shipit.yaml": config(replace={"  env_file: .env": "  env_file: loop.env"}), "loop.env": Link("loop.env")},
    )
    contexts = {
        "root": "/",
        "usr-share": "/usr/share",
        "traversal": "../..",
        "sibling": f"../{OUTSIDE}",
        "proc": "/proc",
    }
    for name, path in contexts.items():
        yield _yaml(f"path-context-{name}", "paths", config(replace={"context: .,": f"context: '{path}',"}))
    yield Case(
        "path-context-symlink-out",
        "paths",
        ("validate",),
        {"shipit.yaml": config(replace={"context: .,": "context: app,"}), "app": Link("{outside}")},
    )
    yield Case(
        "path-context-symlink-loop",
        "paths",
        ("validate",),
        {"shipit.yaml": config(replace={"context: .,": "context: app,"}), "app": Link("app")},
    )
    for name, path in {
        "etc-passwd": "/etc/passwd",
        "traversal": "../../etc/passwd",
        "sibling": f"../{OUTSIDE}/secret.txt",
    }.items():
        yield _yaml(
            f"path-dockerfile-{name}",
            "paths",
            config(replace={"target: runtime}": f"target: runtime, dockerfile: '{path}'}}"}),
        )
    yield Case(
        "path-dockerfile-symlink-out",
        "paths",
        ("validate",),
        {
            "shipit.yaml": config(replace={"target: runtime}": "target: runtime, dockerfile: Dockerfile.link}"}),
            "Dockerfile.link": Link("{outside}/secret.txt"),
        },
    )
    for name, path in {
        "abs": "/tmp/shipit-hostile-infra",
        "traversal": "../..",
        "sibling": f"../{OUTSIDE}/infra",
        "dot": ".",
    }.items():
        yield _yaml(f"path-infra-dir-{name}", "paths", config(f"infra: {{dir: '{path}'}}\n"))
    yield _yaml("path-infra-dir-overlay", "paths", config(replace={"us-central1}": "us-central1, infra: {dir: /etc}}"}))
    # Local checks that need the files: missing context, Dockerfile, stage.
    yield _yaml("path-context-missing", "paths", config(replace={"context: .,": "context: ./nope,"}))
    yield Case("path-dockerfile-missing", "paths", ("validate",), {"Dockerfile": None})
    yield Case("path-dockerfile-is-dir", "paths", ("validate",), {"Dockerfile": Dir()})
    yield Case("path-dockerfile-fifo", "paths", ("validate",), {"Dockerfile": Fifo()})
    yield Case("path-target-stage-missing", "paths", ("validate",), {"Dockerfile": "FROM scratch AS runtim\n"})
    yield Case("path-target-no-stages", "paths", ("validate",), {"Dockerfile": "FROM scratch\n"})
    yield Case(
        "path-dockerfile-huge",
        "paths",
        ("validate",),
        {"Dockerfile": "FROM scratch AS runtime\n" + "# pad\n" * 200_000},
    )


def config_file_option() -> Iterator[Case]:
    specials: dict[str, tuple[tuple[str, ...], Mapping[str, FileSpec], str]] = {
        "empty": (("-f", ""), {}, r"-f/--file"),
        "blank": (("-f", "   "), {}, r"-f/--file"),
        "dev-zero": (("-f", "/dev/zero"), {}, r"/dev/zero: is a device"),
        "dev-urandom": (("-f", "/dev/urandom"), {}, r"/dev/urandom: is a device"),
        "dev-null": (("-f", "/dev/null"), {}, r"/dev/null: is a device"),
        "fifo": (("-f", "pipe.yaml"), {"pipe.yaml": Fifo()}, r"pipe\.yaml: is a named pipe"),
        "directory": (("-f", "conf"), {"conf": Dir()}, r"conf: is a directory"),
        "missing": (("-f", "nope.yaml"), {}, r"nope\.yaml: file not found"),
        "symlink-loop": (("-f", "loop.yaml"), {"loop.yaml": Link("loop.yaml")}, r"loop\.yaml"),
        "proc-self": (("-f", "/proc/self/environ"), {}, r"/proc/self/environ"),
    }
    for name, (flags, files, where) in specials.items():
        for command in (("validate",), ("plan", "--offline")):
            yield Case(f"flag-file-{name}-{command[0]}", "config-file", (*command, *flags), files, where)


def env_files() -> Iterator[Case]:
    bad = {
        "pasted-token": f"STRIPE_KEY=x\n{CANARY}-token\n",
        "pasted-token-upper": "STRIPE_KEY=x\nAKIAHOSTILECANARY7F3A9B\n",
        "pem-body": "STRIPE_KEY=x\nKEY=-----BEGIN PRIVATE KEY-----\n"
        + f"MIIEv{CANARY}QIBADANBg\n" * 3
        + "-----END PRIVATE KEY-----\n",
        "pem-with-equals": f"STRIPE_KEY=x\nMIIE+/{CANARY}abc==\n",
        "unterminated-quote": f'STRIPE_KEY="{CANARY}\nmore {CANARY}\n',
        "unterminated-single": f"STRIPE_KEY='{CANARY}\n",
        "no-key": f"={CANARY}\n",
        "space-in-key": f"STRIPE KEY={CANARY}\n",
        "nul-byte": f"STRIPE_KEY={CANARY}\x00\n",
        "json-line": f'{{"STRIPE_KEY": "{CANARY}"}}\n',
        "shell-command": f"$(echo {CANARY})\n",
        "export-only": f"export {CANARY}\n",
        "dash-key": f"-{CANARY}=x\n",
    }
    for name, text in bad.items():
        command = _commands()[len(name) % 3]
        yield Case(f"env-{name}-{command[0]}", "env-file", command, {".env": text}, r"\.env:\d+")
    raw = {
        "bad-utf8": b"STRIPE_KEY=\xff\xfe" + CANARY.encode() + b"\n",
        "latin1": "STRIPE_KEY=caf\xe9\n".encode("latin-1"),
    }
    for name, data in raw.items():
        for command in _commands()[:3]:
            yield Case(f"env-{name}-{command[0]}", "env-file", command, {".env": data}, r"\.env:\d+")
    special: dict[str, tuple[FileSpec, str]] = {
        "fifo": (Fifo(), r"\.env: is a named pipe"),
        "directory": (Dir(), r"\.env: is a directory"),
        "dev-zero": (Link("/dev/zero"), r"shipit\.yaml:\d+:\d+: secrets\.env_file: '\.env' resolves to /dev/zero"),
        "too-large": ("A=" + "x" * (5 * 1024 * 1024) + "\n", r"\.env: is \d+ bytes"),
    }
    for name, (spec, where) in special.items():
        for command in _commands():
            yield Case(f"env-{name}-{command[0]}", "env-file", command, {".env": spec}, where)
    # Declared but absent (validate), did-you-mean, and a missing build secret (every command).
    yield Case("env-secret-missing-validate", "env-file", ("validate",), {".env": "OTHER=1\n"})
    yield Case("env-secret-near-miss-validate", "env-file", ("validate",), {".env": "STRIPE_KY=1\n"}, r"did you mean")
    build_secret = config(replace={"target: runtime}": "target: runtime, secrets: [NPM_TOKEN]}"})
    for command in _commands():
        yield Case(f"env-build-secret-missing-{command[0]}", "env-file", command, {"shipit.yaml": build_secret})
    unset_ref = config(replace={"LOG_LEVEL: info": "LOG_LEVEL: info, FROM_CI: '${env.SHIPIT_HOSTILE_UNSET}'"})
    for command in _commands():
        yield Case(f"env-unset-ref-{command[0]}", "env-file", command, {"shipit.yaml": unset_ref})


def flags() -> Iterator[Case]:
    bad: dict[str, tuple[tuple[str, ...], str]] = {
        "secret-version-abc": (
            ("services", "deploy", "--dry-run", "--secret-version", "STRIPE_KEY=abc"),
            "--secret-version",
        ),
        "secret-version-zero": (
            ("services", "deploy", "--dry-run", "--secret-version", "STRIPE_KEY=0"),
            "--secret-version",
        ),
        "secret-version-negative": (
            ("services", "deploy", "--dry-run", "--secret-version", "STRIPE_KEY=-1"),
            "--secret-version",
        ),
        "secret-version-no-key": (("services", "deploy", "--dry-run", "--secret-version", "=3"), "--secret-version"),
        "secret-version-no-equals": (
            ("services", "deploy", "--dry-run", "--secret-version", "STRIPE_KEY"),
            "--secret-version",
        ),
        "secret-version-huge": (
            ("services", "deploy", "--dry-run", "--secret-version", "STRIPE_KEY=" + "9" * 40),
            "--secret-version",
        ),
        "tag-underscore": (("services", "deploy", "--dry-run", "--tag", "Candidate_1"), "--tag"),
        "tag-upper": (("services", "deploy", "--dry-run", "--tag", "CANDIDATE"), "--tag"),
        "tag-leading-digit": (("services", "deploy", "--dry-run", "--tag", "1candidate"), "--tag"),
        "tag-long": (("services", "deploy", "--dry-run", "--tag", "t" * 80), "--tag"),
        "tag-shell": (("services", "deploy", "--dry-run", "--tag", "$(id)"), "--tag"),
        "tag-empty": (("services", "deploy", "--dry-run", "--tag", ""), "--tag"),
        "services-image-unknown": (("services", "deploy", "--dry-run", "--image", "nope=r/x@sha256:0"), "--image"),
        "services-image-no-equals": (("services", "deploy", "--dry-run", "--image", "apionly"), "--image"),
        "deploy-image-unknown": (("deploy", "--dry-run", "--yes", "--image", "nope=r/x@sha256:0"), "--image"),
        "deploy-image-empty-ref": (("deploy", "--dry-run", "--yes", "--image", "api="), "--image"),
        "local-timeout-negative": (("local", "up", "--timeout", "-5"), "--timeout"),
        "local-timeout-zero": (("local", "up", "--timeout", "0"), "--timeout"),
        "local-timeout-text": (("local", "up", "--timeout", "soon"), "--timeout"),
        "local-timeout-nan": (("local", "up", "--timeout", "nan"), "--timeout"),
        "canary-zero": (("deploy", "--dry-run", "--canary", "0"), "--canary"),
        "canary-100": (("deploy", "--dry-run", "--canary", "100"), "--canary"),
        "jobs-zero": (("build", "--dry-run", "-j", "0"), "--jobs"),
        "jobs-huge": (("build", "--dry-run", "-j", "999"), "--jobs"),
        "plan-only-unknown": (("plan", "--offline", "--only", "biuld"), "biuld"),
        "plan-skip-unknown": (("plan", "--offline", "--skip", "nope"), "nope"),
        "deploy-only-unknown": (("deploy", "--dry-run", "--only", "x,y"), "unknown step"),
        "env-unknown": (("plan", "--offline", "-e", "prodd"), "environment 'prodd'"),
        "env-unknown-validate": (("validate", "-e", "nope"), "environment 'nope'"),
        "env-unknown-deploy": (("deploy", "--dry-run", "-e", "prod"), "environment 'prod'"),
        "build-unknown-service": (("build", "--dry-run", "nope"), "service 'nope'"),
        "push-unknown-service": (("push", "--dry-run", "nope"), "nope"),
        "unknown-option": (("plan", "--offlien"), "--offlien"),
        "unknown-command": (("deplyo",), "deplyo"),
        "services-concurrency-zero": (("services", "deploy", "--dry-run", "--concurrency", "0"), "--concurrency"),
    }
    for name, (argv, where) in bad.items():
        yield Case(f"flag-{name}", "flags", argv, {}, where)


def compose_files() -> Iterator[Case]:
    """`shipit init` reads a compose file: the same bounded loader, located errors, nothing written on failure."""
    bomb = ["x0: &x0 [a, a]"] + [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, 10)]
    composes: dict[str, tuple[str, str]] = {
        "alias-bomb": ("docker-compose.yml", "\n".join(bomb) + "\nservices:\n  web: {build: .}\n"),
        "deep": ("compose.yaml", "services: " + "[" * 5000 + "]" * 5000 + "\n"),
        "python-tag": ("compose.yaml", "services:\n  web: !!python/object/apply:os.system [id]\n"),
        "services-list": ("compose.yaml", "services: [web]\n"),
        "service-scalar": ("compose.yaml", "services:\n  web: nginx\n"),
        "top-level-list": ("docker-compose.yaml", "- services\n"),
        "recursive": ("compose.yml", "services: &s\n  web: *s\n"),
        "nul": ("compose.yaml", "services:\n  web: {image: a\x00b}\n"),
        "bad-utf8": ("compose.yaml", "services:\n  web: {image: caf\udcff}\n"),
        "too-large": ("compose.yaml", "services: {}\n" + "#" * (2 * 1024 * 1024) + "\n"),
    }
    for name, (file, text) in composes.items():
        data: FileSpec = text.encode("utf-8", "surrogateescape") if "\udcff" in text else text
        files: dict[str, FileSpec] = {"shipit.yaml": None, ".env": None, "Dockerfile": None, file: data}
        pattern = re.escape(file) + (r": is \d+ bytes" if name == "too-large" else r":\d+")
        yield Case(f"compose-{name}", "compose-files", ("init",), files, pattern)


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for group in (yaml_syntax, yaml_resources, yaml_tags, schema_values, paths):
        for case in group():
            cases.append(case)
    # Config-level cases through the commands that would otherwise call Docker or Google first.
    extra: list[Case] = []
    chosen = [c for c in cases if c.argv == ("validate",) and c.category in ("yaml-resources", "yaml-tags", "paths")]
    for index, case in enumerate(chosen):
        # Every case of these categories through one of the other commands, in turn (keeps the corpus fast).
        command = _commands()[1 + index % 3]
        extra.append(Case(f"{case.id}-{command[0]}", case.category, command, case.files, case.where, case.never))
    cases.extend(extra)
    cases.extend(config_file_option())
    cases.extend(env_files())
    cases.extend(flags())
    cases.extend(compose_files())
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, duplicates
    return cases
