"""Build log parsing: steps, Dockerfile instruction lines, and the diagnosis of a failed build."""

from __future__ import annotations

from pathlib import Path

from shipit.steps.buildlog import diagnose, instruction_lines, parse_step

DOCKERFILE = """\
# syntax comment is just a comment here
ARG BASE=busybox

FROM ${BASE} AS build
RUN echo one \\
    && echo two
# a comment between
COPY . /src
FROM busybox
RUN false
"""


def test_parse_step_classic_and_buildkit() -> None:
    step = parse_step("Step 3/6 : RUN echo hi > /x")
    assert step is not None and (step.index, step.total, step.text, step.stage) == (3, 6, "RUN echo hi > /x", None)
    bk = parse_step("#7 [build 2/3] RUN make")
    assert bk is not None and (bk.index, bk.total, bk.text, bk.stage) == (2, 3, "RUN make", "build")
    assert parse_step(" ---> Running in abc") is None
    assert parse_step("#1 [internal] load build definition from Dockerfile") is None


def test_instruction_lines_follow_continuations_and_comments() -> None:
    lines = instruction_lines(DOCKERFILE)
    assert [n for n, _ in lines] == [2, 4, 5, 8, 9, 10]
    assert lines[2][1] == "RUN echo one && echo two"


def test_instruction_lines_escape_directive() -> None:
    text = "# escape=`\nFROM busybox\nRUN echo a `\n  b\nCMD x\n"
    assert instruction_lines(text) == [(2, "FROM busybox"), (3, "RUN echo a b"), (5, "CMD x")]


def test_diagnose_classic_failure_names_service_step_and_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    log = [
        "Step 5/6 : FROM busybox",
        " ---> 28466104ca70",
        "Step 6/6 : RUN false",
        " ---> Running in 0a2260e56175",
        "The command '/bin/sh -c false' returned a non-zero code: 1",
    ]
    error = diagnose("api", dockerfile, "backend/Dockerfile", log)
    assert "service 'api'" in error.message
    assert "step 6/6 `RUN false` (backend/Dockerfile:10)" in error.message
    assert "returned a non-zero code: 1" in error.message
    assert "  api | Step 6/6 : RUN false" in error.message  # the log tail, prefixed
    assert error.exit_code == 1


def test_diagnose_buildkit_failure_uses_reported_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    log = [
        "#8 [build 2/3] RUN make",
        '#8 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
        "Dockerfile:5",
        'ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2',
    ]
    error = diagnose("web", dockerfile, "web/Dockerfile", log)
    assert "step [build] 2/3 `RUN make` (web/Dockerfile:5)" in error.message


def test_diagnose_parse_error(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM busybox\nRUNN x\n")
    log = ["Error response from daemon: dockerfile parse error line 2: unknown instruction: RUNN"]
    error = diagnose("api", dockerfile, "Dockerfile", log)
    assert error.message.startswith("build of service 'api' failed (Dockerfile): ")
    assert "unknown instruction: RUNN" in error.message
