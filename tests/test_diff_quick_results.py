"""scripts/diff_quick_results.py: timings are ignored, any other change of a number is reported."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "diff_quick_results.py"
_spec = importlib.util.spec_from_file_location("diff_quick_results", SCRIPT)
assert _spec is not None and _spec.loader is not None
diff = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(diff)


def _run(folder: Path, result: dict) -> Path:
    (folder / "results").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"git_commit": str(folder), "n": 1}))
    (folder / "results" / "x.json").write_text(json.dumps(result))
    return folder


def test_timings_are_ignored_and_numbers_are_not(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", {"seconds": 1.0, "seconds_with_embedding": 2.0, "top1": 0.5})
    b = _run(tmp_path / "b", {"seconds": 9.0, "seconds_with_embedding": 3.0, "top1": 0.5})
    c = _run(tmp_path / "c", {"seconds": 1.0, "seconds_with_embedding": 2.0, "top1": 0.51})
    assert diff.diff_runs(a, b) == []
    found = diff.diff_runs(a, c)
    assert len(found) == 1 and "top1" in found[0] and "0.51" in found[0]


def test_timing_key_pattern() -> None:
    for key in ("seconds", "train_seconds", "wall_time_s", "seconds_with_embedding", "elapsed"):
        assert diff.TIMING_KEY.search(key), key
    for key in ("top1", "n_seconds_pairs", "accuracy"):
        assert not diff.TIMING_KEY.search(key), key
