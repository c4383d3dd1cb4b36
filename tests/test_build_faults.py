"""Builds are all-or-nothing: killed anywhere, the output folder is one whole build.

The invariant, checked after every fault: ``_output/`` holds exactly the
files its ``build.json`` lists, each with the checksum recorded there (one
complete report, the previous one or the new one, and the record of what it
was built from). Builds are killed during the data checks, while the kernel
executes, while the formats are written, and during the publishing step, with
SIGINT (Ctrl-C: the whole process group, as a terminal sends it), SIGTERM and
SIGKILL (the renderer alone).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from renderer.build import RECORD, complete
from tests.test_end_to_end import ROOT, copy_repo, make

pytestmark = pytest.mark.e2e

PROSE = "is still not optimal"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATA", "RENDERER", "MAKEFLAGS", "MAKELEVEL")}
    return {**env, "RENDERER": "builtin", **extra}


def _edit_prose(repo: Path) -> None:
    """A change the build must render (so it has work to do) that touches no number: a new comment line."""
    qmd = repo / "report.qmd"
    qmd.write_text(qmd.read_text(encoding="utf-8") + f"\n<!-- edit {time.time_ns()} -->\n", encoding="utf-8")


def _start(repo: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen([str(repo / ".venv" / "bin" / "python"), "-m", "renderer", "report.qmd"], cwd=repo,
                            env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for_line(proc: subprocess.Popen, marker: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if marker in line:
            return
        assert time.monotonic() < deadline, f"no '{marker}' line"
    pytest.fail(f"the build ended before printing '{marker}'")


def _kill(proc: subprocess.Popen, signum: int) -> tuple[int, str]:
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # Ctrl-C reaches every process of the terminal's group
    else:
        proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    return proc.returncode, stderr


def _leftovers(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.glob("._output.staging-*"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("faults"))
    # A variant of the cohort with other bytes and the same patients, so the checks have to run.
    cohort = (repo / "data" / "example_cohort.csv").read_text(encoding="utf-8")
    (repo / "crlf.csv").write_text(cohort.replace("\n", "\r\n"), encoding="utf-8", newline="")
    first = make(repo, "report", RENDERER="builtin")
    assert first.returncode == 0, first.stdout + first.stderr
    assert complete(repo / "_output")
    return repo


# (where to kill, the line the build prints just before it gets there, settings)
KILL_POINTS = [
    ("during the data checks", None, {"DATA": "crlf.csv"}),
    ("while the kernel executes the cells", "renderer: builtin", {}),
    ("while the formats are written", "  assemble", {}),
]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
@pytest.mark.parametrize("where, marker, env", KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_a_killed_build_leaves_the_previous_report_whole(repo, where, marker, env, signum):
    before = json.loads((repo / "_output" / RECORD).read_text())
    _edit_prose(repo)
    proc = _start(repo, **env)
    if marker is None:
        time.sleep(1.5)  # the checks take several seconds: well inside them
    else:
        _wait_for_line(proc, marker)
    status, stderr = _kill(proc, signum)

    assert complete(repo / "_output"), f"killed {where}: _output is not one whole build"
    assert json.loads((repo / "_output" / RECORD).read_text()) == before
    if signum == signal.SIGKILL:
        assert status == -signal.SIGKILL
    else:
        assert status == 128 + signum
        assert "Traceback" not in stderr
        assert stderr.strip().splitlines()[-1].startswith(f"interrupted ({signum.name}): nothing was published")
        assert _leftovers(repo) == []


def test_after_a_sigkill_the_next_build_cleans_up_and_publishes(repo):
    _edit_prose(repo)
    proc = _start(repo)
    _wait_for_line(proc, "renderer: builtin")
    _kill(proc, signal.SIGKILL)
    done = subprocess.run([str(repo / ".venv" / "bin" / "python"), "-m", "renderer", "report.qmd"], cwd=repo,
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _leftovers(repo) == []
    assert complete(repo / "_output")
    assert PROSE in (repo / "_output" / "abstract.txt").read_text(encoding="utf-8")


def test_interrupted_make_report_keeps_the_previous_report(repo):
    before = json.loads((repo / "_output" / RECORD).read_text())
    _edit_prose(repo)
    proc = subprocess.Popen(["make", "report"], cwd=repo, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_for_line(proc, "renderer: builtin")
    _, stderr = _kill(proc, signal.SIGINT)
    assert proc.returncode != 0
    assert "Traceback" not in stderr
    assert complete(repo / "_output")
    assert json.loads((repo / "_output" / RECORD).read_text()) == before


PUBLISH_LOOP = """
import sys
from pathlib import Path
from renderer.build import publish, staging_dir, write_record
out = Path(sys.argv[1])
n = 0
while True:
    n += 1
    staging = staging_dir(out)
    for i in range(40):
        (staging / f"file{i}.txt").write_text(f"build {n} file {i}" * 50)
    write_record(staging, str(n), "test")
    publish(staging, out)
"""


def test_killed_while_publishing_the_folder_is_one_build(tmp_path):
    """SIGKILL at random moments of a loop that does nothing but stage and publish builds."""
    out = tmp_path / "_output"
    for attempt in range(12):
        proc = subprocess.Popen([sys.executable, "-c", PUBLISH_LOOP, str(out)], cwd=ROOT)
        time.sleep(0.3 + 0.05 * attempt)
        proc.kill()
        proc.wait()
        assert complete(out), f"attempt {attempt}: the output folder is not one whole build"
        files = sorted(p.read_text() for p in out.glob("file*.txt"))
        assert len({f.split(" file ")[0] for f in files}) == 1  # every file from the same build


def test_concurrent_builds_are_serialised_and_up_to_date_means_these_inputs(repo):
    _edit_prose(repo)
    first = _start(repo, DATA="crlf.csv")
    time.sleep(0.5)
    second = _start(repo)  # the bundled cohort: other inputs
    out_first, err_first = first.communicate(timeout=600)
    out_second, err_second = second.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, err_first + err_second
    assert "waiting: another build" in out_second
    assert complete(repo / "_output")
    # The folder is the second build; the first's inputs are not up to date any more.
    again = subprocess.run([str(repo / ".venv" / "bin" / "python"), "-m", "renderer", "report.qmd"], cwd=repo,
                           env=_env(DATA="crlf.csv"), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0
    assert not again.stdout.startswith("up to date")
    unchanged = subprocess.run([str(repo / ".venv" / "bin" / "python"), "-m", "renderer", "report.qmd"], cwd=repo,
                               env=_env(DATA="crlf.csv"), capture_output=True, text=True, timeout=600)
    assert unchanged.stdout.startswith("up to date")
