"""The experiment runner: run-folder policy, resume, and experiments run in parallel processes."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from relreps import experiments
from relreps.cli import main
from relreps.experiments.runner import RunFolderError, prepare_output, reproduce

_FAKE = """
import os
import time

from relreps.experiments.base import ExperimentResult, ExperimentSpec, Table

def run(context):
    start = time.time()
    time.sleep({sleep})
    if {fail}:
        raise RuntimeError("{name} failed on purpose")
    return ExperimentResult(
        name="{name}",
        title="fake {name}",
        paper_ref="-",
        config={{"quick": context.quick, "seed": context.seed}},
        tables=(Table("t", ("pid",), ((os.getpid(),),)),),
        data={{"pid": os.getpid(), "start": start, "end": time.time(), "online": context.online}},
    )

SPEC = ExperimentSpec(name="{name}", title="fake {name}", paper_ref="-", requirements=(), run=run)
"""


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Register fake experiments (importable by worker processes through sys.path)."""
    package = tmp_path / "fake_experiments"
    package.mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))

    def add(name: str, *, sleep: float = 0.0, fail: bool = False) -> str:
        module = "fake_" + name.replace("-", "_")
        source = _FAKE.format(name=name, sleep=sleep, fail=fail)
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source), "utf-8")
        monkeypatch.setitem(experiments.EXPERIMENT_MODULES, name, module)
        return name

    return add


def test_parallel_runs_overlap_in_separate_processes_and_keep_order(fakes, tmp_path: Path):
    a, b, c = fakes("fake-a", sleep=1.5), fakes("fake-b", sleep=1.5), fakes("fake-c")
    lines: list[str] = []
    results = reproduce([a, b, c], tmp_path / "run", jobs=2, online=True, log=lines.append)
    assert [r.name for r in results] == [a, b, c]
    first, second = results[0].data, results[1].data
    third = results[2].data  # ran after a or b in a worker slot: a fresh process all the same
    assert len({first["pid"], second["pid"], third["pid"], os.getpid()}) == 4
    assert all(r.data["online"] for r in results)  # options reach the worker processes
    assert first["start"] < second["end"] and second["start"] < first["end"]  # they overlapped
    for result in results:
        saved = json.loads((tmp_path / "run" / "results" / f"{result.name}.json").read_text())
        assert saved["data"]["pid"] == result.data["pid"] and result.wall_time_s is not None
    assert (tmp_path / "run" / "report.md").exists()
    assert any("2 at a time" in line for line in lines)


def test_parallel_failure_starts_nothing_new_and_keeps_finished_results(fakes, tmp_path: Path):
    bad = fakes("fake-bad", sleep=0.5, fail=True)
    slow, later = fakes("fake-slow", sleep=2.0), fakes("fake-later")
    lines: list[str] = []
    with pytest.raises(RuntimeError, match="fake-bad failed on purpose"):
        reproduce([bad, slow, later], tmp_path / "run", jobs=2, log=lines.append)
    results = tmp_path / "run" / "results"
    assert (results / "fake-slow.json").exists()  # it was running: it finished
    assert not (results / "fake-bad.json").exists()
    assert not (results / "fake-later.json").exists()  # queued behind the failure: never started
    assert not any(line.startswith("[fake-later] running") for line in lines)
    assert any("not starting the 1 queued experiment(s)" in line for line in lines)


def test_resume_loads_finished_experiments_instead_of_rerunning(fakes, tmp_path: Path):
    a, b = fakes("fake-a"), fakes("fake-b")
    first = reproduce([a, b], tmp_path / "run", log=lambda line: None)
    assert not any(r.data["online"] for r in first)
    lines: list[str] = []
    again = reproduce([a, b], tmp_path / "run", resume=True, jobs=2, log=lines.append)
    assert [r.data["pid"] for r in again] == [r.data["pid"] for r in first]
    assert sum("already finished" in line for line in lines) == 2
    with pytest.raises(RunFolderError, match=r"made with seed=0 \(now 3\)"):
        reproduce([a, b], tmp_path / "run", resume=True, seed=3, log=lambda line: None)
    with pytest.raises(RunFolderError, match=r"quick=False \(now True\)"):
        reproduce([a], tmp_path / "run", resume=True, quick=True, log=lambda line: None)


def test_jobs_and_folder_errors(fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    a = fakes("fake-a")
    with pytest.raises(ValueError, match="jobs"):
        reproduce([a], tmp_path / "run", jobs=0)
    assert main(["reproduce", "graph", "--jobs", "0", "--output", str(tmp_path / "x")]) == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err
    assert main(["reproduce", a, "--online", "--output", str(tmp_path / "cli")]) == 0
    saved = json.loads((tmp_path / "cli" / "results" / f"{a}.json").read_text())
    assert saved["data"]["online"] is True
    reproduce([a], tmp_path / "run", log=lambda line: None)
    with pytest.raises(RunFolderError, match="already exists"):
        prepare_output(tmp_path / "run")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="not a relreps run folder"):
        prepare_output(tmp_path / "other", overwrite=True)
    assert (tmp_path / "other" / "keep.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="not a folder"):
        prepare_output(tmp_path / "file")
