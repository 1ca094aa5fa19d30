"""The relreps command line through its public entry point: every subcommand and error path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import relreps
from relreps.cli import main


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "relreps.cli.main", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(relreps.__file__).parents[1])},
    )


def test_help_and_version():
    # One run through the installed entry point; each subcommand's --help in-process (argparse
    # exits 0 after printing), which tests the same parsers without a process start each.
    done = _run("--help")
    assert done.returncode == 0 and "project" in done.stdout and "reproduce" in done.stdout
    assert relreps.__version__ in _run("--version").stdout


@pytest.mark.parametrize(
    "command", ["demo", "project", "reproduce", "list", "report", "similarities", "models"]
)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: relreps " + command)


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert main(["reproduce", "no-such-experiment"]) == 2
    assert "unknown experiment 'no-such-experiment'" in capsys.readouterr().err


def test_similarities_json(capsys):
    assert main(["similarities", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"cosine", "euclidean", "basis_change"}


@pytest.fixture
def arrays(tmp_path, rng):
    x = rng.normal(size=(300, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "idx.npy", np.arange(0, 300, 30))
    np.save(tmp_path / "anchors.npy", x[::30])
    return tmp_path, x


def test_project_index_and_array_anchors_agree(arrays, capsys):
    folder, x = arrays
    expected = relreps.relative_projection(x, x[::30], center="anchors")
    argv = ["--center", "anchors", "--chunk-size", "64"]
    assert (
        main(
            [
                "project",
                str(folder / "x.npy"),
                str(folder / "idx.npy"),
                "-o",
                str(folder / "a.npy"),
                *argv,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "project",
                str(folder / "x.npy"),
                str(folder / "anchors.npy"),
                "-o",
                str(folder / "b.npy"),
                *argv,
            ]
        )
        == 0
    )
    np.testing.assert_allclose(np.load(folder / "a.npy"), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(folder / "b.npy"), expected, rtol=1e-5, atol=1e-6)
    assert not [p for p in os.listdir(folder) if p.startswith(".")]  # no temporary left behind


@pytest.mark.parametrize("suffix", [".npz", ".safetensors", ".parquet"])
def test_project_output_formats(arrays, suffix):
    folder, x = arrays
    out = folder / f"rel{suffix}"
    assert main(["project", str(folder / "x.npy"), str(folder / "idx.npy"), "-o", str(out)]) == 0
    from relreps.cli.arrays import load_array

    got = load_array(out)
    np.testing.assert_allclose(got, relreps.relative_projection(x, x[::30]), rtol=1e-5, atol=1e-6)
    # the written file reads back as input too
    assert (
        main(["project", str(out), str(folder / "idx.npy"), "-o", str(folder / f"again{suffix}")])
        == 0
    )


def test_project_errors(arrays, capsys):
    folder, _ = arrays
    np.save(folder / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(folder / "bad_idx.npy", np.array([0, 5000]))
    np.save(folder / "float_idx.npy", np.array([0.5, 1.5]))
    np.save(folder / "x3.npy", np.ones((2, 2, 2), np.float32))
    (folder / "trunc.npy").write_bytes((folder / "x.npy").read_bytes()[:200])
    np.save(folder / "wrongdim.npy", np.ones((3, 5), np.float32))
    cases = [
        (["missing.npy", "idx.npy"], "does not exist"),
        (["obj.npy", "idx.npy"], "never unpickles"),
        (["x.npy", "bad_idx.npy"], r"must lie in \[0, 299\]"),
        (["x.npy", "float_idx.npy"], "not integer"),
        (["x3.npy", "idx.npy"], "2-D array"),
        (["trunc.npy", "idx.npy"], "not a readable .npy file"),
        (["x.npy", "wrongdim.npy"], "to have 5 features"),
        (["x.txt", "idx.npy"], "unsupported file type"),
    ]
    import re

    for i, (inputs, message) in enumerate(cases):
        argv = ["project", *(str(folder / p) for p in inputs), "-o", str(folder / f"o{i}.npy")]
        assert main(argv) == 1, inputs
        assert re.search(message, capsys.readouterr().err), inputs
        assert not (folder / f"o{i}.npy").exists()
    main(["project", str(folder / "x.npy"), str(folder / "idx.npy"), "-o", str(folder / "o.npy")])
    assert (
        main(
            ["project", str(folder / "x.npy"), str(folder / "idx.npy"), "-o", str(folder / "o.npy")]
        )
        == 1
    )
    assert "pass --overwrite" in capsys.readouterr().err
    assert (
        main(
            [
                "project",
                str(folder / "x.npy"),
                str(folder / "idx.npy"),
                "-o",
                str(folder / "o.npy"),
                "--overwrite",
            ]
        )
        == 0
    )


def test_report_requires_run_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 1
    assert "not a relreps run folder" in capsys.readouterr().err


def test_list_runs(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all({"name", "available", "needs"} <= set(r) for r in rows)


def test_compare_table_json_and_errors(tmp_path, rng, capsys):
    x = rng.normal(size=(200, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", 3.0 * x @ q)
    np.save(tmp_path / "c.npy", rng.normal(size=(150, 6)))
    a, b, c = (str(tmp_path / f"{n}.npy") for n in "abc")
    assert main(["compare", a, b, "--k", "5", "--metrics", "cka", "procrustes", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    values = {s["name"]: s["value"] for s in report["scores"]}
    assert values["cka"] == pytest.approx(1.0) and values["procrustes"] == pytest.approx(
        0.0, abs=1e-6
    )
    assert main(["compare", a, b, "--permutations", "3"]) == 0
    assert "p-value" in capsys.readouterr().out
    assert main(["compare", a, c]) == 1
    assert "same number of rows" in capsys.readouterr().err
    assert main(["compare", a, b, "--metrics", "nope"]) == 1
    assert "unknown metrics ['nope']" in capsys.readouterr().err
    assert main(["compare", a, b, "--k", "500"]) == 1
    assert "`k` to be an int" in capsys.readouterr().err


def test_models_lists_the_offline_encoders(capsys):
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"minilm-l6", "minilm-l3-onnx", "wordllama", "e5-small"} <= set(rows)
    assert rows["minilm-l6"]["dim"] == 384 and rows["wordllama"]["dim"] == 256
    assert main(["models"]) == 0
    assert "minilm-l6" in capsys.readouterr().out


def test_reproduce_data_flags_reach_the_run_and_env_vars_still_work(tmp_path, monkeypatch, capsys):
    import relreps.experiments.runner as runner
    from relreps.experiments.base import DataSelection

    seen: list[DataSelection] = []

    def fake_reproduce(names, output, *, selection, **kwargs):
        seen.append(selection)
        return []

    monkeypatch.setattr(runner, "reproduce", fake_reproduce)
    monkeypatch.delenv("RELREPS_GRAPH_PLANETOID", raising=False)
    monkeypatch.setenv("RELREPS_WORD_VECTORS", f"a.vec{os.pathsep}b.vec")
    out = str(tmp_path / "run")
    args = ["reproduce", "graph", "-o", out, "--planetoid", "Cora, PubMed"]
    assert main([*args, "--text-datasets", "trec", "--amazon-languages", "fr,es"]) == 0
    assert seen[-1] == DataSelection(
        planetoid=("Cora", "PubMed"),
        text_datasets=("trec",),
        amazon_languages=("fr", "es"),
        word_vectors=("a.vec", "b.vec"),  # the deprecated variable, as no flag was given
    )
    assert "RELREPS_WORD_VECTORS is deprecated; pass --word-vectors" in capsys.readouterr().err
    assert main([*args, "--word-vectors", "c.vec", "--word-vectors", "d,e.vec"]) == 0
    assert seen[-1].word_vectors == ("c.vec", "d,e.vec")  # the flag wins over the variable
    assert "deprecated" not in capsys.readouterr().err
