"""`relreps align` and `relreps translate`: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from relreps.cli import main

pytest.importorskip("ot")
pytest.importorskip("safetensors")


@pytest.fixture()
def spaces(tmp_path):
    """X: 600 rows of skewed 12-d data; Y: a rotated, rescaled, noised copy (row i = row i)."""
    rng = np.random.default_rng(0)
    x = (rng.gamma(2.0, size=(600, 12)) * np.linspace(3.0, 0.5, 12)).astype(np.float32)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    y = (2.0 * x @ q + 0.01 * rng.normal(size=x.shape)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, x, y


def _pairs_file(folder, pairs, name="pairs.txt"):
    path = folder / name
    path.write_text("# x y\n" + "\n".join(f"{i} {j}" for i, j in pairs) + "\n")
    return str(path)


def test_align_with_all_pairs_writes_translator_json_and_report(spaces, capsys):
    folder, _x, _y = spaces
    pairs = _pairs_file(folder, [(i, i) for i in range(600)])
    out = folder / "out"
    assert main(["align", str(folder / "x.npy"), str(folder / "y.npy"), "--pairs", pairs,
                 "-o", str(out)]) == 0  # fmt: skip
    summary = json.loads((out / "alignment.json").read_text())
    assert summary["method"] == "pairs" and summary["status"] == "ok"
    assert summary["retrieval"]["n_pairs"] == 120 and summary["retrieval"]["top1"] > 0.95
    assert (out / "translator.safetensors").exists() and (out / "report.html").exists()
    assert "Held-out retrieval" in (out / "report.html").read_text()
    assert "held-out retrieval: top-1" in capsys.readouterr().err


def test_seed_pairs_then_translate_streams_through_the_saved_map(spaces):
    folder, _x, y = spaces
    seeds = folder / "seeds.npy"
    np.save(seeds, np.stack([np.arange(10), np.arange(10)], axis=1))
    out = folder / "aligned"
    code = main(["align", str(folder / "x.npy"), str(folder / "y.npy"), "--seed-pairs",
                 str(seeds), "-o", str(out), "--seed", "3"])  # fmt: skip
    assert code == 0
    summary = json.loads((out / "alignment.json").read_text())
    assert summary["method"].startswith("bootstrap") and summary["n_given"] == 10
    assert summary["consistency"]["passed"] is True
    # the bootstrap's restart check is in the report beside the structural score
    assert "restart agreement" in (out / "report.md").read_text()
    translated = folder / "tx.npy"
    assert main(["translate", str(out), str(folder / "x.npy"), "-o", str(translated),
                 "--chunk-size", "64"]) == 0  # fmt: skip
    mapped = np.load(translated, allow_pickle=False)
    assert mapped.shape == y.shape and mapped.dtype == np.float32
    cos = np.sum(mapped * y, axis=1) / np.linalg.norm(mapped, axis=1) / np.linalg.norm(y, axis=1)
    assert float(np.mean(cos)) > 0.99
    assert main(["translate", str(out), str(folder / "x.npy"), "-o", str(folder / "t.npz")]) == 0


def test_unpaired_on_unrelated_spaces_fails_with_a_report_and_no_translator(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "a.npy", rng.normal(size=(700, 40)).astype(np.float32))
    np.save(tmp_path / "b.npy", rng.normal(size=(700, 40)).astype(np.float32))
    out = tmp_path / "out"
    code = main(["align", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--unpaired",
                 "--method", "gw-norm", "-o", str(out)])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "relreps align: error: alignment failed: score " in err and "(null " in err
    assert not (out / "translator.safetensors").exists() and (out / "report.html").exists()
    assert json.loads((out / "alignment.json").read_text())["status"] == "failed"
    assert (
        main(["translate", str(out), str(tmp_path / "a.npy"), "-o", str(tmp_path / "t.npy")]) == 1
    )
    assert "holds a failed alignment" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [(0, 600), (1, 1), (2, 2)],
            r"of Y in \[0, 599\] in column 1, but got 600 in pair 0",
        ),
        ([(0, 1), (2, 1), (3, 3)], r"each row of Y at most once, but got row 1 in pairs 0 and 1"),
        ([(0, 0), (1, 1)], r"`--pairs` to be at least 3 pairs, but got 2"),
    ],
)
def test_bad_pairs_are_one_line_errors(spaces, capsys, lines, message):
    folder, _, _ = spaces
    pairs = _pairs_file(folder, lines)
    code = main(["align", str(folder / "x.npy"), str(folder / "y.npy"), "--pairs", pairs,
                 "--holdout", "0", "-o", str(folder / "o")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert re.search(message, err)


def test_malformed_pairs_file_and_nan_rows_and_too_few_rows(spaces, capsys, tmp_path):
    folder, x, _y = spaces
    bad = folder / "bad.txt"
    bad.write_text("0 0\n1 one\n")
    args = [str(folder / "x.npy"), str(folder / "y.npy")]
    assert main(["align", *args, "--pairs", str(bad), "-o", str(folder / "o")]) == 1
    assert "line 2: expected two integer row indices" in capsys.readouterr().err
    broken = x.copy()
    broken[5, 0] = np.nan
    np.save(folder / "nan.npy", broken)
    assert (
        main(["align", str(folder / "nan.npy"), args[1], "--unpaired", "-o", str(folder / "o")])
        == 1
    )
    assert "`x` to contain only finite values, but row 5" in capsys.readouterr().err
    np.save(folder / "tiny.npy", x[:2])
    assert (
        main(["align", str(folder / "tiny.npy"), args[1], "--unpaired", "-o", str(folder / "o")])
        == 1
    )
    assert "at least 3 rows" in capsys.readouterr().err


def test_usage_errors_exit_2(spaces):
    folder, _, _ = spaces
    pairs = _pairs_file(folder, [(i, i) for i in range(10)])
    args = ["align", str(folder / "x.npy"), str(folder / "y.npy")]
    with pytest.raises(SystemExit) as info:
        main([*args, "--pairs", pairs, "--method", "ot", "-o", str(folder / "o")])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([*args, "--unpaired", "--method", "csls", "-o", str(folder / "o")])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([*args, "--unpaired", "--pairs", pairs, "-o", str(folder / "o")])
    assert info.value.code == 2


def test_translate_refuses_a_width_mismatch_and_existing_output(spaces, capsys):
    folder, _x, _ = spaces
    pairs = _pairs_file(folder, [(i, i) for i in range(600)])
    out = folder / "out"
    assert main(["align", str(folder / "x.npy"), str(folder / "y.npy"), "--pairs", pairs,
                 "-o", str(out)]) == 0  # fmt: skip
    np.save(folder / "wide.npy", np.ones((4, 13), dtype=np.float32))
    assert main(["translate", str(out), str(folder / "wide.npy"), "-o", str(folder / "t.npy")]) == 1
    assert "Expected X to have 12 features" in capsys.readouterr().err
    (folder / "t.npy").write_bytes(b"")
    assert main(["translate", str(out), str(folder / "x.npy"), "-o", str(folder / "t.npy")]) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["align", str(folder / "x.npy"), str(folder / "y.npy"), "--pairs", pairs,
                 "-o", str(out)]) == 1  # fmt: skip
    assert "--overwrite" in capsys.readouterr().err
