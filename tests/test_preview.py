"""``make preview``: the page follows the sources, reuses only what cannot have changed, stops cleanly.

A preview server runs on a free port in a temporary copy of the repository;
the tests edit the copy's prose, code and data as an author would and read
the page back over HTTP. Timing is not asserted here (``make bench``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.test_end_to_end import copy_repo

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATA", "MAKEFLAGS", "MAKELEVEL")}
        self.proc = subprocess.Popen(
            [str(repo / ".venv" / "bin" / "python"), "-m", "renderer.preview", "report.qmd", "--port", str(self.port)],
            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.version = 0

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return response.read().decode()

    def status(self) -> dict:
        return json.loads(self.get("/__status"))

    def next_render(self, timeout: float = 600) -> dict:
        """Wait for the render after the one last seen; return its status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = self.status()
            except OSError:
                status = {"version": 0}
            if status["version"] > self.version and status.get("state") in ("ok", "failed"):
                self.version = status["version"]
                return status
            assert self.proc.poll() is None, self.proc.stdout.read()
            time.sleep(0.2)
        pytest.fail("no render finished in time")

    def page(self) -> str:
        return " ".join(self.get("/").split())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(copy_repo(tmp_path_factory.mktemp("preview")))
    first = server.next_render()
    assert first["state"] == "ok", first
    yield server
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGKILL)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_page_is_the_report_with_its_word_count(server):
    page = server.page()
    assert "Twenty-seven patients" in page and "39.4% (95% CI: 19.1-59.8%)" in page
    assert "abstract: 293 words (limit 300)" in page


def test_a_prose_edit_reuses_the_cells(server):
    _edit(server.repo / "report.qmd", "is still not optimal", "remains far from optimal")
    status = server.next_render()
    assert status["state"] == "ok" and status["last"].startswith("prose edit: cell outputs reused, 0 new")
    assert "remains far from optimal" in server.page()


def test_a_new_expression_is_evaluated_in_the_live_kernel_unless_a_later_cell_assigns_its_names(server):
    qmd = server.repo / "report.qmd"
    _edit(qmd, "**Conclusion:** InO", "**Conclusion:** In `{python} fmt.number(study.n)` patients, InO")
    status = server.next_render()
    assert status["last"].startswith("prose edit: cell outputs reused, 1 new")
    assert "In 27 patients, InO" in server.page()
    # `figure` is assigned only by cells further down. The live kernel holds the last one, but a
    # full render evaluates this expression before those cells run: the preview executes in
    # order too, and fails as `make report` would, rather than print the kernel's leftover.
    _edit(qmd, "**Conclusion:** In", "**Conclusion:** (`{python} type(figure).__name__`) In")
    status = server.next_render()
    assert status["state"] == "failed" and "NameError" in status["message"]
    assert "(SavedFigure)" not in server.page()
    _edit(qmd, "**Conclusion:** (`{python} type(figure).__name__`) In", "**Conclusion:** In")
    assert server.next_render()["state"] == "ok"


def test_a_code_cell_edit_executes_again(server):
    _edit(server.repo / "report.qmd", "t2 = outcomes(study)\n", "t2 = outcomes(study)  # edited\n")
    assert server.next_render()["last"] == "executed every cell in a new kernel"


def test_a_data_edit_runs_the_checks_and_no_old_number_survives(server):
    cohort = server.repo / "data" / "example_cohort.csv"
    rows = cohort.read_text(encoding="utf-8").splitlines()
    cohort.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")
    status = server.next_render()
    assert status["state"] == "ok" and status["last"] == "executed every cell in a new kernel"
    page = server.page()
    assert "Twenty-six patients" in page and "Twenty-seven patients" not in page


def test_a_failing_check_shows_in_the_page(server):
    cohort = server.repo / "data" / "example_cohort.csv"
    original = cohort.read_text(encoding="utf-8")
    header, first, *rest = original.splitlines()
    cells = first.split(",")
    cells[header.split(",").index("age_years")] = "18.0"
    cohort.write_text("\n".join([header, ",".join(cells), *rest]) + "\n", encoding="utf-8")
    status = server.next_render()
    assert status["state"] == "failed" and "age_years" in status["message"]
    assert "Render failed" in server.page() and "age_years" in server.page()
    cohort.write_text(original, encoding="utf-8")
    assert server.next_render()["state"] == "ok"


def test_ctrl_c_stops_it_and_leaves_no_process(server):
    children = psutil.Process(server.proc.pid).children(recursive=True)
    assert children, "the preview keeps a kernel alive"
    os.killpg(server.proc.pid, signal.SIGINT)
    server.proc.wait(timeout=60)
    assert server.proc.returncode == 0
    time.sleep(0.5)
    assert [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE] == []
