"""``relreps stitch``: JSON keys and values, the table, the run folder, and every error line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from relreps.cli.main import main
from relreps.stitching import RelativeHead

ROWS = ("own", "stitched", "absolute", "translation", "absolute_own", "chance")
FAST = ["--epochs", "6", "--min-steps", "400", "--anchors", "20"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """150 rows of 3 blobs; B = A rotated and rescaled (same width), C = A in 9 dims."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 50)
    centres = rng.normal(size=(3, 6)) * 3
    a = (centres[labels] + rng.normal(size=(150, 6))).astype(np.float32)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    basis, _ = np.linalg.qr(rng.normal(size=(9, 6)))
    paths = {
        "a": tmp_path / "a.npy",
        "b": tmp_path / "b.npy",
        "c": tmp_path / "c.npz",
        "y": tmp_path / "y.npy",
        "ytxt": tmp_path / "y.txt",
    }
    np.save(paths["a"], a)
    np.save(paths["b"], (2.5 * a @ q).astype(np.float32))
    np.savez(paths["c"], emb=(a @ basis.T).astype(np.float32))
    np.save(paths["y"], labels)
    paths["ytxt"].write_text("\n".join(["cat", "dog", "eel"][i] for i in labels) + "\n")
    return paths


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_rows_and_values(files, capsys) -> None:
    out = _json(
        capsys,
        ["stitch", str(files["a"]), str(files["b"]), "--labels", str(files["y"]), "--json", *FAST],
    )
    for name in ROWS:
        assert set(out[name]) >= {"accuracy", "f1_weighted"}
        assert 0.0 <= out[name]["accuracy"] <= 1.0
    # B is A rotated and rescaled: the relative head reads it exactly as A
    assert out["stitched"] == out["own"]
    assert out["own"]["accuracy"] > 0.9
    assert out["kept_fraction"]["f1_weighted"] == pytest.approx(1.0)
    assert out["chance"]["accuracy"] == pytest.approx(1 / 3, abs=0.01)
    assert out["translation"]["accuracy"] > 0.9  # Procrustes undoes the rotation
    assert (out["n_rows"], out["n_train"], out["n_test"], out["n_anchors"]) == (150, 120, 30, 20)
    assert out["widths"] == [6, 6] and out["n_classes"] == 3
    assert out["head"]["head"] == "linear" and out["head"]["norm"] == "layernorm"


def test_widths_differ_table_and_text_labels(files, capsys) -> None:
    argv = ["stitch", str(files["a"]), str(files["c"]), "--labels", str(files["ytxt"]), *FAST]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "A " in text and "(6-d) -> B" in text and "(9-d)" in text
    # 120 training rows are one batch: --min-steps 400 means 400 passes, not --epochs 6
    assert "400 passes over the training rows" in text
    assert "absolute             -        -  n/a: widths differ (6 vs 9)" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    for name in ROWS:
        assert name in lines
    assert "kept: stitched / own = 1.000 (weighted F1)" in text
    out = _json(capsys, [*argv, "--json"])
    assert out["absolute"] == {
        "accuracy": None,
        "f1_weighted": None,
        "reason": "widths differ (6 vs 9)",
    }
    assert out["stitched"]["accuracy"] == out["own"]["accuracy"]


def test_test_labels_take_the_rows_after_the_training_rows(files, tmp_path, capsys) -> None:
    labels = np.load(files["y"])
    order = np.random.default_rng(1).permutation(150)
    a = np.load(files["a"])[order]
    np.save(tmp_path / "a2.npy", a)
    np.save(tmp_path / "ytrain.npy", labels[order][:100])
    (tmp_path / "ytest.txt").write_text("\n".join(map(str, labels[order][100:])))
    argv = ["stitch", str(tmp_path / "a2.npy"), str(tmp_path / "a2.npy"), "--labels"]
    argv += [str(tmp_path / "ytrain.npy"), "--test-labels", str(tmp_path / "ytest.txt"), "--json"]
    out = _json(capsys, [*argv, *FAST])
    assert (out["n_train"], out["n_test"], out["split"]) == (100, 50, "test labels")


def test_anchor_file_and_output_folder(files, tmp_path, capsys) -> None:
    (tmp_path / "anchors.txt").write_text("\n".join(map(str, range(0, 150, 10))))
    folder = tmp_path / "run"
    argv = ["stitch", str(files["a"]), str(files["c"]), "--labels", str(files["y"]), "--key", "emb"]
    argv += [
        "--anchors",
        str(tmp_path / "anchors.txt"),
        "--epochs",
        "4",
        "--min-steps",
        "100",
        "-o",
        str(folder),
    ]
    # --key names the array inside c.npz; the .npy files ignore it
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.err
    names = {p.name for p in folder.iterdir()}
    assert {
        "head",
        "manifest.json",
        "report.html",
        "report.md",
        "results",
        "anchor_rows.npy",
    } <= names
    np.testing.assert_array_equal(np.load(folder / "anchor_rows.npy"), np.arange(0, 150, 10))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["config"]["command"] == "stitch" and manifest["seed"] == 0
    result = json.loads((folder / "results" / "stitch.json").read_text())
    assert result["data"]["n_anchors"] == 15
    assert "relreps stitch" in (folder / "report.html").read_text()
    # the saved head reads B zero-shot, with B's embeddings of the saved anchor rows
    head = RelativeHead.load(folder / "head")
    c = np.load(files["c"])["emb"]
    test = np.load(folder / "test_rows.npy")
    rows = np.load(folder / "anchor_rows.npy")
    accuracy = head.score(c[test], c[rows], np.load(files["y"])[test])
    assert accuracy == pytest.approx(result["data"]["stitched"]["accuracy"])
    # overwrite policy
    assert main(argv) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0


def test_seed_changes_the_split_but_is_reproducible(files, capsys) -> None:
    argv = [
        "stitch",
        str(files["a"]),
        str(files["b"]),
        "--labels",
        str(files["y"]),
        "--json",
        *FAST,
    ]
    first = _json(capsys, argv)
    assert _json(capsys, argv) == first


# --- errors: one line on stderr, exit 1 (bad data) or 2 (usage) ----------------------------------


def _error(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 1) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_labels_of_wrong_length(files, tmp_path, capsys) -> None:
    np.save(tmp_path / "short.npy", np.zeros(149, dtype=int))
    err = _error(
        capsys,
        ["stitch", str(files["a"]), str(files["b"]), "--labels", str(tmp_path / "short.npy")],
    )
    assert err == (
        "relreps stitch: error: Expected --labels to hold one label per row of A and B (150), "
        "but got 149"
    )


def test_labels_of_wrong_dtype(files, tmp_path, capsys) -> None:
    np.save(tmp_path / "float.npy", np.linspace(0, 1, 150))
    err = _error(
        capsys,
        ["stitch", str(files["a"]), str(files["b"]), "--labels", str(tmp_path / "float.npy")],
    )
    assert "Expected --labels to hold class labels (ints or strings)" in err
    assert "non-integral floats, e.g. " in err and "at row 1" in err
    np.save(tmp_path / "two_d.npy", np.zeros((150, 2), dtype=int))
    err = _error(
        capsys,
        ["stitch", str(files["a"]), str(files["b"]), "--labels", str(tmp_path / "two_d.npy")],
    )
    assert "Expected --labels to be 1-D (one label per row)" in err and "(150, 2)" in err


def test_rows_differ(files, tmp_path, capsys) -> None:
    np.save(tmp_path / "b_short.npy", np.load(files["b"])[:140])
    err = _error(
        capsys,
        ["stitch", str(files["a"]), str(tmp_path / "b_short.npy"), "--labels", str(files["y"])],
    )
    assert err.endswith(
        "Expected A and B to embed the same items (same number of rows), but A has 150 rows and "
        "B has 140"
    )


def test_nan_rows_are_named(files, tmp_path, capsys) -> None:
    b = np.load(files["b"])
    b[[3, 77]] = np.nan
    np.save(tmp_path / "b_nan.npy", b)
    err = _error(
        capsys,
        ["stitch", str(files["a"]), str(tmp_path / "b_nan.npy"), "--labels", str(files["y"])],
    )
    assert err.endswith("has NaN or Inf in 2 rows: 3, 77")
    assert "Expected B to hold only finite values" in err


def test_anchors_out_of_range(files, tmp_path, capsys) -> None:
    np.save(tmp_path / "anchors.npy", np.array([0, 5, 150]))
    base = ["stitch", str(files["a"]), str(files["b"]), "--labels", str(files["y"]), "--anchors"]
    err = _error(capsys, [*base, str(tmp_path / "anchors.npy")])
    assert "to lie in [0, 149] (A and B have 150 rows), but 1 do not, e.g. 150 at position 2" in err
    err = _error(capsys, [*base, "500"])
    assert err.endswith("Expected --anchors N to be in [1, 120] (the training rows), but got 500")
    err = _error(capsys, [*base, "0"])
    assert "Expected --anchors N to be in [1, 120]" in err
    err = _error(capsys, [*base, "nothing-here"])
    assert err.endswith("--anchors 'nothing-here' is neither a number nor an existing file")
    np.save(tmp_path / "dup.npy", np.array([1, 1, 2]))
    err = _error(capsys, [*base, str(tmp_path / "dup.npy")])
    assert "to be distinct" in err
    np.save(tmp_path / "float_idx.npy", np.array([1.0, 2.0]))
    err = _error(capsys, [*base, str(tmp_path / "float_idx.npy")])
    assert "to hold row indices (a non-empty 1-D int array)" in err


def test_one_class_only(files, tmp_path, capsys) -> None:
    np.save(tmp_path / "one.npy", np.zeros(150, dtype=int))
    err = _error(
        capsys, ["stitch", str(files["a"]), str(files["b"]), "--labels", str(tmp_path / "one.npy")]
    )
    assert err.endswith("Expected at least 2 classes among the training rows, but got only [0]")


def test_split_errors(files, tmp_path, capsys) -> None:
    base = ["stitch", str(files["a"]), str(files["b"]), "--labels", str(files["y"])]
    err = _error(capsys, [*base, "--test-labels", str(files["y"])])
    assert (
        "len(--labels) + len(--test-labels) to equal the 150 rows" in err
        and "150 + 150 = 300" in err
    )
    err = _error(capsys, [*base, "--test-labels", str(files["y"]), "--test-fraction", "0.3"])
    assert err.endswith("--test-fraction and --test-labels exclude each other: give one")
    err = _error(capsys, [*base, "--test-fraction", "1.5"])
    assert "`--test-fraction` to be a finite number in (0.0, 1.0]" in err
    err = _error(capsys, [*base, "--test-fraction", "0.001"])
    assert "leaves 150 training and 0 test rows of 150" in err


def test_missing_and_pickled_files(files, tmp_path, capsys) -> None:
    err = _error(
        capsys, ["stitch", str(tmp_path / "nope.npy"), str(files["b"]), "--labels", str(files["y"])]
    )
    assert "does not exist" in err
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}] * 150, dtype=object), allow_pickle=True)
    err = _error(
        capsys, ["stitch", str(files["a"]), str(files["b"]), "--labels", str(tmp_path / "obj.npy")]
    )
    assert "never unpickles" in err
    err = _error(
        capsys, ["stitch", str(files["a"]), str(files["b"]), "--labels", str(tmp_path / "none.txt")]
    )
    assert err.endswith(f"--labels {str(tmp_path / 'none.txt')!r} does not exist")


def test_usage_errors_exit_2(files, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["stitch", str(files["a"]), str(files["b"])])
    assert info.value.code == 2
    assert "--labels" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(
            [
                "stitch",
                str(files["a"]),
                str(files["b"]),
                "--labels",
                str(files["y"]),
                "--head",
                "tree",
            ]
        )
    assert info.value.code == 2
