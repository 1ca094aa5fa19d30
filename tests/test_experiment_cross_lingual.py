"""cross-lingual: the quick run end to end (real word vectors, phrases, encoders) and a twin."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relreps.experiments import cross_lingual as cl
from relreps.experiments.base import ExperimentResult, RunContext

_MISSING = cl.SPEC.missing()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    if _MISSING:
        pytest.skip(f"real data/models missing: {[r.name for r in _MISSING]}")
    from relreps.cli import main

    folder = tmp_path_factory.mktemp("xling") / "run"
    assert main(["reproduce", "cross-lingual", "--quick", "--output", str(folder)]) == 0
    return folder


def test_quick_run_direction(quick_run):
    data = json.loads((quick_run / "results" / "cross-lingual.json").read_text())
    result = ExperimentResult.from_dict(data)
    assert ExperimentResult.from_dict(result.to_dict()) == result
    words, phrases = result.data["words"], result.data["phrases"]
    # words: relative retrieval is far above chance; absolute is undefined (50 vs 300 dims)
    rel = words["mean"]["en->fr"]["relative"]
    assert rel["top1"] > 20 * words["chance"]["top1"] and rel["top10"] > rel["top1"]
    assert "absolute" in words["undefined"] and "absolute" not in words["mean"]["en->fr"]
    # phrases: absolute MiniLM vs e5 is near chance; relative (centred) is far above it
    m = phrases["mean"]["en->fr"]
    assert m["absolute"]["top1"] < 5 * phrases["chance"]["top1"]
    assert m["relative-centred"]["top1"] > 4 * m["absolute"]["top1"]
    assert m["relative-centred"]["mrr"] > m["relative"]["mrr"]  # e5 is anisotropic
    statuses = {v.claim.split(" (")[0]: v.status for v in result.verdicts}
    assert any(s == "skipped" for c, s in statuses.items() if c.startswith("Amazon"))
    assert result.config["quick"] is True and len(words["per_seed"]) == 2
    _assert_numeric_verdicts(result)
    by_quantity = {v.quantity: v for v in result.verdicts if v.quantity}
    w = by_quantity["relative top-1 / chance top-1 (words, EN -> FR)"]
    assert w.measured == pytest.approx(rel["top1"] / words["chance"]["top1"])
    a = by_quantity["absolute top-1 / chance top-1 (phrases, EN -> FR)"]
    assert a.comparison == "<=" and a.threshold == 5.0


def _assert_numeric_verdicts(result: ExperimentResult) -> None:
    """Every judged claim carries its measured figure and threshold, and its status follows."""
    for verdict in result.verdicts:
        if verdict.status in ("skipped", "no paper number"):  # no paper claim to judge
            continue
        assert verdict.threshold is not None and verdict.measured is not None, verdict
        higher = verdict.comparison == ">="

        def meets(bar: float, v=verdict, higher=higher) -> bool:
            return v.measured >= bar if higher else v.measured <= bar

        expected = (
            "reproduced"
            if meets(verdict.threshold)
            else (
                "partly"
                if verdict.partly is not None and meets(verdict.partly)
                else "not reproduced"
            )
        )
        assert verdict.status == expected, verdict


def test_quick_run_report(quick_run):
    from relreps.report import render_markdown
    from relreps.report.render import load_run

    html = (quick_run / "report.html").read_text()
    assert "cross-lingual" in html and "data:image/png;base64," in html
    manifest, results, _ = load_run(quick_run)
    markdown = render_markdown(quick_run, results, manifest)
    assert "Word translation retrieval" in markdown and "ASSETS probe" in markdown
    assert (quick_run / "figures" / "cross_lingual_top1.png").stat().st_size > 1000


# --- fixture twin: always runs --------------------------------------------------------------


def _twin_spaces(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(n, 8))
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    items = tuple((f"w{i}", f"m{i}") for i in range(n))
    rotated = cl.ParallelSpaces("rotated", "a", "b", source, 2.0 * source @ rotation, items)
    wider = np.concatenate([source @ rotation, np.zeros((n, 4))], axis=1)  # 12-d, same geometry
    padded = cl.ParallelSpaces("wider", "a", "c", source, wider + 1e-3, items)
    return rotated, padded


def test_twin_retrieval_through_anchors():
    rotated, padded = _twin_spaces()
    block = cl.translation_retrieval(rotated, 30, seeds=[0, 1])
    m = block["mean"]["en->fr"]
    assert m["relative"]["top1"] == pytest.approx(1.0)
    assert m["translation"]["top1"] == pytest.approx(1.0)
    assert m["absolute"]["top1"] < 0.5  # rotated coordinates do not match
    assert block["n_candidates"] == 90 and block["chance"]["top1"] == pytest.approx(1 / 90)
    other = cl.translation_retrieval(padded, 30, seeds=[0])
    assert "absolute" in other["undefined"] and other["mean"]["fr->en"]["relative"]["top1"] > 0.9


def test_twin_run_config(tmp_path):
    rotated, padded = _twin_spaces()
    config = cl.CrossLingualConfig(n_anchors=30, seeds=2, n_phrases=120, phrase_anchors=30)
    context = RunContext(tmp_path, quick=True, log=lambda _: None)
    result = cl.run_config(config, context, word_spaces=padded, phrase_spaces=(rotated, rotated))
    assert ExperimentResult.from_dict(json.loads(result.to_json())) == ExperimentResult.from_dict(
        result.to_dict()
    )
    assert result.verdicts[0].status == "reproduced"
    _assert_numeric_verdicts(result)
    judged = [v for v in result.verdicts if v.threshold is not None]
    assert [v.quantity.split(" (")[0] for v in judged] == [
        "relative top-1 / chance top-1",
        "best relative",
        "absolute top-1 / chance top-1",
    ]
    # the rotated phrase twin: relative retrieves every item, absolute does not
    assert judged[1].status == "reproduced"
    assert (tmp_path / result.figures[0].path).stat().st_size > 1000
    reference_rows = [r for r in result.tables[1].rows if r[1].startswith("reference")]
    assert len(reference_rows) == 2


def test_amazon_path_with_fixtures():
    from relreps.encoders import CallableEncoder

    class Table:
        def __init__(self, lang, n):
            rng = np.random.default_rng(len(lang))
            self.column_names = ["review_title", "review_body", "stars", "review_id"]
            stars = rng.integers(1, 6, size=n)
            self.data = {
                "review_title": [f"{lang} t{s}" for s in stars],
                "review_body": [f"{lang} body {s}" for s in stars],
                "stars": stars.tolist(),
                "review_id": [f"{lang}{i}" for i in range(n)],
            }

        def __getitem__(self, column):
            return self.data[column]

    def loader(hub, config, split):
        return Table(config, 60)

    def stars_of(texts):
        # both "languages" encode the star count the same way, in different coordinates
        out = np.zeros((len(texts), 6))
        for i, t in enumerate(texts):
            digits = [int(ch) for ch in t if ch.isdigit()]
            out[i, digits[0] if digits else 0] = 1.0
        return out + 0.01

    flip = np.eye(6)[::-1]
    encoders = {
        "en": CallableEncoder(stars_of, name="en", dim=6),
        "fr": CallableEncoder(lambda t: stars_of(t) @ flip, name="fr", dim=6),
    }
    pairs = [(f"a {k}", f"b {k}") for k in range(1, 6)] * 2
    pairs = [(f"{a} x{i}", f"{b} x{i}") for i, (a, b) in enumerate(pairs)]
    out = cl.amazon_stitching(
        ["fr"], n_train=60, n_test=60, n_anchors=10, anchors=pairs, encoders=encoders, loader=loader
    )
    assert out["fr"]["relative"][0] > out["fr"]["absolute"][0]


def test_bad_inputs():
    with pytest.raises(ValueError, match="phrase_anchors"):
        cl.CrossLingualConfig(n_phrases=100, phrase_anchors=100)
    with pytest.raises(ValueError, match="at least one level"):
        cl.CrossLingualConfig(word_level=False, phrase_level=False)
    with pytest.raises(ValueError, match="n_anchors"):
        cl.translation_retrieval(_twin_spaces()[0], 119, seeds=[0])
    with pytest.raises(ValueError, match="items"):
        cl.ParallelSpaces("x", "a", "b", np.ones((3, 2)), np.ones((3, 2)), (("a", "b"),))
    with pytest.raises(ValueError, match="--amazon-languages"):
        cl._amazon_languages("fr,xx")
