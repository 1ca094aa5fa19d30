"""The word-embeddings reproduction: config, vector files, and the quick run on the real corpus."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from relreps.datasets.base import DataFormatError, DataNotFoundError
from relreps.datasets.word2vec import CorpusSpec
from relreps.experiments import get
from relreps.experiments.base import DataSelection, ExperimentResult, RunContext
from relreps.experiments.word_embeddings import (
    FULL,
    QUICK,
    SPEC,
    run,
    run_experiment,
    run_on_files,
)

HAVE_CORPUS = os.path.exists("/usr/share/wordnet/data.noun")
HAVE_GENSIM = SPEC.requirements[0].available()


def _quiet(_: str) -> None:
    pass


def _words(n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [f"w{letters[i // 676 % 26]}{letters[i // 26 % 26]}{letters[i % 26]}" for i in range(n)]


def _write(path: Path, words: list[str], x: np.ndarray, header: bool = True) -> Path:
    lines = [f"{len(words)} {x.shape[1]}\n"] if header else []
    lines += [
        w + " " + " ".join(f"{v:.6f}" for v in row) + "\n" for w, row in zip(words, x, strict=True)
    ]
    path.write_text("".join(lines), encoding="utf-8")
    return path


CENTRINGS = ("relative-plain", "relative-centred")


def _summary(result: ExperimentResult, pair: str, space: str, strategy: str = "uniform") -> dict:
    key = f"{pair}|{space}|{strategy if space != 'absolute' else '-'}"
    return result.data["summary"][key]


# ---------------------------------------------------------------------------------------------
# configuration


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"strategies": ("uniform", "random")}, ValueError, "strategies"),
        ({"strategies": ("fps",)}, ValueError, "including 'uniform'"),
        ({"n_queries": 0}, ValueError, "n_queries"),
        ({"ks": (5, 20_000)}, ValueError, "ks"),
        ({"pretrained": ("word2vec-google",)}, ValueError, "pretrained"),
        ({"corpus": "gcide"}, TypeError, "CorpusSpec"),
        ({"n_anchors": 0}, ValueError, "n_anchors"),
    ],
)
def test_config_rejects_bad_values(change, error, match):
    with pytest.raises(error, match=match):
        replace(FULL, **change)


def test_spec_is_registered_with_its_requirements():
    assert get("word-embeddings") is SPEC
    installs = {r.install for r in SPEC.requirements}
    assert {"apt-get install dict-gcide", "apt-get install wordnet-base"} <= installs


def test_missing_corpus_names_the_debian_package(tmp_path):
    with pytest.raises(DataNotFoundError, match="apt-get install dict-gcide"):
        CorpusSpec(gcide_path=str(tmp_path / "no-dictd")).files()
    config = replace(
        QUICK,
        corpus=CorpusSpec(gcide=False, wordnet_path=str(tmp_path / "no-wordnet")),
        cache_dir=str(tmp_path / "cache"),
    )
    context = RunContext(tmp_path / "run", quick=True, log=_quiet)
    with pytest.raises(DataNotFoundError, match="apt-get install wordnet-base"):
        run_experiment(context, config)
    assert not (tmp_path / "cache").exists()  # failed before training anything


# ---------------------------------------------------------------------------------------------
# the experiment on a user's own files (fixture data: always runs)


def _rotated_files(tmp_path: Path, rng: np.random.Generator, dim_b: int) -> tuple[Path, Path]:
    words = _words(1_200)
    x = rng.normal(size=(len(words), 16))
    # B = an isometric embedding of A into dim_b dimensions, rescaled: the same geometry.
    basis = np.linalg.qr(rng.normal(size=(dim_b, dim_b)))[0][:16]
    y = 2.5 * x @ basis
    order = rng.permutation(len(words))  # B lists its words in another order
    a = _write(tmp_path / "a.vec", words, x)
    b = _write(tmp_path / "b.txt", [words[i] for i in order], y[order], header=False)
    return a, b


def test_run_on_files_rotated_copy_is_found_only_by_relative(tmp_path, rng):
    a, b = _rotated_files(tmp_path, rng, 16)
    result = run_on_files(a, b, output_dir=tmp_path / "run", quick=True, log=_quiet)
    relative = _summary(result, "space-a->space-b", "relative-plain")
    absolute = _summary(result, "space-a->space-b", "absolute")
    assert relative["jaccard@5"] > 0.99 and relative["mrr@5"] > 0.99
    assert relative["cosine"] > 0.999
    assert absolute["jaccard@5"] < 0.1 and absolute["mrr@5"] < 0.1
    assert result.data["vocabularies"] == {"files": 800}  # 1,200 - the 400 most frequent
    (agreement,) = result.data["neighbourhood_agreement"]
    assert agreement["jaccard@10"] > 0.99  # the same geometry: the same neighbours
    assert {v.status for v in result.verdicts} <= {"reproduced", "partly"}
    for figure in result.figures:
        assert (tmp_path / "run" / figure.path).is_file()
    again = ExperimentResult.from_dict(json.loads(result.to_json()))
    assert again.to_dict() == result.to_dict()


def test_run_on_files_with_different_dims_has_no_absolute_score(tmp_path, rng):
    a, b = _rotated_files(tmp_path, rng, 24)
    result = run_on_files(
        a, b, output_dir=tmp_path / "run", quick=True, seeds=1, names=["mine", "yours"], log=_quiet
    )
    assert "mine->yours|absolute|-" not in result.data["summary"]
    assert _summary(result, "yours->mine", "relative-centred")["mrr@10"] > 0.99
    table = result.tables[0]
    absolute_rows = [r for r in table.rows if r[2] == "absolute"]
    assert absolute_rows and all(r[4] is None for r in absolute_rows)


def test_run_on_files_errors(tmp_path, rng):
    a, _ = _rotated_files(tmp_path, rng, 16)
    bad = tmp_path / "bad.vec"
    bad.write_text("1 3\nword 1 2\n")
    with pytest.raises(DataFormatError, match="line 2"):
        run_on_files(a, bad, output_dir=tmp_path / "r1", quick=True, log=_quiet)
    few = _write(tmp_path / "few.vec", _words(500), rng.normal(size=(500, 4)))
    with pytest.raises(ValueError, match="shared words"):
        run_on_files(a, few, output_dir=tmp_path / "r2", quick=True, log=_quiet)
    with pytest.raises(ValueError, match="names"):
        run_on_files(a, a, output_dir=tmp_path / "r3", names=["x", "x"], log=_quiet)


def test_word_vectors_selection_points_the_experiment_at_files(tmp_path, rng):
    a, b = _rotated_files(tmp_path, rng, 16)
    selection = DataSelection(word_vectors=(str(a), str(b)))
    result = run(RunContext(tmp_path / "run", quick=True, seeds=1, log=_quiet, selection=selection))
    assert result.config["files"] == [str(a), str(b)]
    assert _summary(result, "space-b->space-a", "relative-plain")["jaccard@10"] > 0.99


# ---------------------------------------------------------------------------------------------
# the quick experiment on the real corpus


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    if not (HAVE_CORPUS and HAVE_GENSIM):
        pytest.skip("needs gensim and the Debian package wordnet-base (apt-get install)")
    root = tmp_path_factory.mktemp("word-embeddings")
    config = replace(QUICK, cache_dir=str(root / "cache"))
    context = RunContext(root / "run", quick=True, log=_quiet)
    return run_experiment(context, config), context, config


@pytest.mark.slow
def test_quick_run_relative_beats_absolute_across_models(quick_run):
    result, _, _ = quick_run
    for pair in ("w2v->w2v-b", "w2v-b->w2v", "w2v->w2v-sg", "w2v-sg->w2v"):
        relative = _summary(result, pair, "relative-centred")
        absolute = _summary(result, pair, "absolute")
        for metric in ("jaccard@10", "mrr@10"):
            assert relative[metric] > 3 * absolute[metric] + 0.02, (pair, metric)
    # FastText on this small corpus is dominated by character n-grams: its neighbourhoods differ
    # from Word2Vec's, so relative retrieval is weak - but still above absolute retrieval.
    for pair in ("ft->w2v", "w2v->ft"):
        best = max(_summary(result, pair, s)["jaccard@10"] for s in CENTRINGS)
        assert best > 2 * _summary(result, pair, "absolute")["jaccard@10"], pair
    seeds = _summary(result, "w2v->w2v-b", "relative-plain")
    assert seeds["cosine"] > 0.8 > _summary(result, "w2v->w2v-b", "absolute")["cosine"]


@pytest.mark.slow
def test_quick_run_result_is_complete_and_round_trips(quick_run):
    result, context, config = quick_run
    assert result.name == "word-embeddings" and result.config["quick"] is True
    assert result.data["vocabularies"]["trained"] == config.n_words
    titles = [t.title for t in result.tables]
    assert any("k=5" in t for t in titles) and any("strategies" in t for t in titles)
    assert len(result.verdicts) >= 6
    for figure in result.figures:
        assert (context.output_dir / figure.path).stat().st_size > 1000
    strategies = {c["strategy"] for c in result.data["cells"] if c["strategy"]}
    assert strategies == set(config.strategies)
    agreement = {(r["a"], r["b"]): r["jaccard@10"] for r in result.data["neighbourhood_agreement"]}
    assert agreement[("w2v", "w2v-b")] > agreement[("ft", "w2v")]
    again = ExperimentResult.from_dict(json.loads(result.to_json()))
    assert again.to_dict() == result.to_dict()


@pytest.mark.slow
def test_quick_run_resumes_from_cached_models_and_cells(quick_run):
    result, context, config = quick_run
    lines: list[str] = []
    resumed = run_experiment(replace(context, log=lines.append), config)
    assert resumed.data["summary"] == result.data["summary"]
    assert all(info.get("from_cache") in (True, None) for info in resumed.data["spaces"].values())
    assert not any("training" in line or "draw" in line for line in lines)
