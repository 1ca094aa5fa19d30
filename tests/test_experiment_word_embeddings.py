"""The word-embeddings reproduction: vector files, training cache, scores, and the quick run."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from relreps.datasets.base import DataFormatError, DataNotFoundError
from relreps.experiments import get
from relreps.experiments._word_spaces import (
    CorpusSpec,
    TrainingConfig,
    cached_word_vectors,
    load_cached_word_vectors,
    train_word_vectors,
)
from relreps.experiments.base import DataSelection, ExperimentResult, RunContext
from relreps.experiments.word_embeddings import (
    SPEC,
    WordEmbeddingsConfig,
    retrieval_from_neighbours,
    run,
    run_experiment,
    run_on_files,
)
from relreps.metrics.retrieval import knn, retrieval_scores

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
# scores


def test_retrieval_from_neighbours_matches_the_metrics_module(rng):
    source = rng.normal(size=(120, 6))
    target = source @ np.linalg.qr(rng.normal(size=(6, 6)))[0] + 0.3 * rng.normal(size=(120, 6))
    queries = np.arange(120)
    own = np.asarray(knn(target, target, 10).indices)
    got = np.asarray(knn(source, target, 10).indices)
    for k in (5, 10):
        jaccard, mrr = retrieval_from_neighbours(own, got, queries, k)
        reference = retrieval_scores(source, target, k)
        assert jaccard == pytest.approx(reference.jaccard)
        assert mrr == pytest.approx(reference.mrr)


def test_retrieval_from_neighbours_on_a_query_subset_is_the_subset_mean(rng):
    target = rng.normal(size=(60, 4))
    source = target + 0.5 * rng.normal(size=(60, 4))
    own = np.asarray(knn(target, target, 5).indices)
    got = np.asarray(knn(source, target, 5).indices)
    everyone = np.arange(60)
    subset = np.array([3, 10, 42])
    full = [retrieval_from_neighbours(own[[i]], got[[i]], everyone[[i]], 5) for i in subset]
    jaccard, mrr = retrieval_from_neighbours(own[subset], got[subset], subset, 5)
    assert jaccard == pytest.approx(np.mean([f[0] for f in full]))
    assert mrr == pytest.approx(np.mean([f[1] for f in full]))
    with pytest.raises(ValueError, match="k"):
        retrieval_from_neighbours(own, got, everyone, 6)
    with pytest.raises(ValueError, match="own/retrieved"):
        retrieval_from_neighbours(own, got[:5], everyone, 5)


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
        replace(WordEmbeddingsConfig.full(), **change)


def test_training_config_and_corpus_spec_validate():
    with pytest.raises(ValueError, match="algorithm"):
        TrainingConfig(algorithm="glove")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dim"):
        TrainingConfig(dim=0)
    with pytest.raises(ValueError, match="at least one corpus"):
        CorpusSpec(gcide=False, wordnet=False)


def test_spec_is_registered_with_its_requirements():
    assert get("word-embeddings") is SPEC
    installs = {r.install for r in SPEC.requirements}
    assert {"apt-get install dict-gcide", "apt-get install wordnet-base"} <= installs


def test_missing_corpus_names_the_debian_package(tmp_path):
    with pytest.raises(DataNotFoundError, match="apt-get install dict-gcide"):
        CorpusSpec(gcide_path=str(tmp_path / "no-dictd")).files()
    config = replace(
        WordEmbeddingsConfig.quick_variant(),
        corpus=CorpusSpec(gcide=False, wordnet_path=str(tmp_path / "no-wordnet")),
        cache_dir=str(tmp_path / "cache"),
    )
    context = RunContext(tmp_path / "run", quick=True, log=_quiet)
    with pytest.raises(DataNotFoundError, match="apt-get install wordnet-base"):
        run_experiment(context, config)
    assert not (tmp_path / "cache").exists()  # failed before training anything


# ---------------------------------------------------------------------------------------------
# training and its cache


def _fake_wordnet(folder: Path) -> Path:
    for pos in ("noun", "verb", "adj", "adv"):
        (folder / f"data.{pos}").write_text(f"00001 03 n 01 {pos} 0 000 | a {pos} gloss\n")
    return folder


@pytest.mark.skipif(not HAVE_GENSIM, reason="gensim is not installed")
def test_training_is_deterministic_with_one_worker_and_seed_dependent():
    rng = np.random.default_rng(0)
    vocab = [f"tok{i}" for i in range(40)]
    text = [[vocab[j] for j in rng.integers(0, 40, size=12)] for _ in range(300)]
    config = TrainingConfig(dim=8, epochs=2, min_count=1, workers=1, seed=3)
    a = train_word_vectors(text, config)
    b = train_word_vectors(text, config)
    c = train_word_vectors(text, replace(config, seed=4))
    assert a.words == b.words and np.array_equal(a.vectors, b.vectors)
    assert not np.allclose(a.vectors, c.vectors)
    fast = train_word_vectors(text, replace(config, algorithm="fasttext", bucket=1000))
    assert fast.vectors.shape == (40, 8) and fast.frequency_ranked
    with pytest.raises(ValueError, match="min_count"):
        train_word_vectors(text, replace(config, min_count=10_000))
    with pytest.raises(TypeError, match="TrainingConfig"):
        train_word_vectors(text, {"dim": 8})  # type: ignore[arg-type]


@pytest.mark.skipif(not HAVE_GENSIM, reason="gensim is not installed")
def test_trained_vectors_are_cached_and_a_damaged_entry_is_retrained(tmp_path):
    corpus = CorpusSpec(gcide=False, wordnet_path=str(_fake_wordnet(tmp_path)))
    config = TrainingConfig(dim=4, epochs=1, min_count=1, workers=1)
    text = [["red", "apple", "green", "pear"]] * 30
    cache = tmp_path / "cache"
    first = cached_word_vectors(corpus, config, cache_dir=cache, paragraphs=text)
    again = load_cached_word_vectors(corpus, config, cache_dir=cache)
    assert not first.from_cache and again is not None and again.from_cache
    np.testing.assert_array_equal(first.vectors.vectors, again.vectors.vectors)
    other_seed = replace(config, seed=1)
    assert load_cached_word_vectors(corpus, other_seed, cache_dir=cache) is None
    (entry,) = [p for p in cache.iterdir() if p.is_dir()]
    (entry / "vectors.npy").write_bytes(b"not a numpy file")
    assert load_cached_word_vectors(corpus, config, cache_dir=cache) is None
    rebuilt = cached_word_vectors(corpus, config, cache_dir=cache, paragraphs=text)
    assert not rebuilt.from_cache
    assert json.loads((entry / "meta.json").read_text())["n_words"] == 4


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
    config = replace(WordEmbeddingsConfig.quick_variant(), cache_dir=str(root / "cache"))
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
