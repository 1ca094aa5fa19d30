"""compare(): report shape, permutation null and p-values, and its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relreps.metrics import compare, jaccard_at_k, metric_info, mrr_at_k, mutual_knn


@pytest.fixture
def spaces():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    return x, 2.0 * x @ q + 0.05 * rng.normal(size=(150, 6))


def test_report_of_aligned_spaces(spaces):
    x, y = spaces
    report = compare(x, y, k=5, n_permutations=19, seed=3)
    assert report.names == ("jaccard", "mrr", "paired_cosine", "mutual_knn", "cka", "procrustes")
    assert report.n_samples == 150 and report.dims == (6, 6) and report.k == 5
    assert report["cka"].value > 0.99 and report["procrustes"].value < 0.1
    for name in ("mutual_knn", "cka", "procrustes"):
        score = report[name]
        assert score.p_value == pytest.approx(1 / 20)  # nothing in the null is as extreme
        assert len(score.null) == 19 and score.null_std is not None
        assert score.kind == metric_info(name).kind
    assert report["mutual_knn"].value == pytest.approx(mutual_knn(x, y, 5))
    json.dumps(report.to_dict())
    assert [s.name for s in report] == list(report.names)
    with pytest.raises(KeyError, match="No metric 'rsa' in this report"):
        report["rsa"]


def test_shuffled_copy_falls_to_null_level(spaces):
    x, _ = spaces
    perm = np.random.default_rng(9).permutation(len(x))
    report = compare(x, x[perm], metrics=["mutual_knn", "cka", "procrustes", "jaccard"], k=5,
                     n_permutations=40, seed=1)  # fmt: skip
    for score in report:
        spread = 4.0 * score.null_std + 0.02
        assert abs(score.value - score.null_mean) < spread, score
        assert score.p_value > 0.01


def test_knn_null_equals_recomputation_on_shuffled_b(spaces):
    """The relabelling shortcut must give what a fresh search on the shuffled b gives."""
    x, y = spaces
    y = y + 0.5 * np.random.default_rng(4).normal(size=y.shape)
    report = compare(x, y, metrics=["jaccard", "mrr", "mutual_knn"], k=4, n_permutations=3, seed=7)
    rng = np.random.default_rng(7)
    for i in range(3):
        yp = y[rng.permutation(len(y))]
        assert report["jaccard"].null[i] == pytest.approx(jaccard_at_k(x, yp, 4))
        assert report["mrr"].null[i] == pytest.approx(mrr_at_k(x, yp, 4))
        assert report["mutual_knn"].null[i] == pytest.approx(mutual_knn(x, yp, 4))
    assert report["jaccard"].value == pytest.approx(jaccard_at_k(x, y, 4))


def test_distance_p_value_direction():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 3))
    report = compare(x, x + 0.01 * rng.normal(size=x.shape), metrics=["procrustes"],
                     n_permutations=9)  # fmt: skip
    assert report["procrustes"].p_value == pytest.approx(0.1)
    assert report["procrustes"].value < min(report["procrustes"].null)


def test_defaults_skip_equal_dim_metrics_and_work_with_torch(spaces):
    torch = pytest.importorskip("torch")
    x, y = spaces
    report = compare(torch.tensor(x), torch.tensor(y[:, :4]), k=3, n_permutations=2)
    assert report.names == ("mutual_knn", "cka", "procrustes")
    assert report["cka"].value == pytest.approx(compare(x, y[:, :4], k=3)["cka"].value)
    plain = compare(x, y, metrics=["cka"])
    assert plain["cka"].p_value is None and plain["cka"].null == ()


def test_compare_errors(spaces):
    x, y = spaces
    with pytest.raises(ValueError, match="Expected `name` to be one of"):
        compare(x, y, metrics=["cka", "bogus"])
    with pytest.raises(ValueError, match="same number of features for metric 'jaccard'"):
        compare(x, y[:, :3], metrics=["jaccard"])
    with pytest.raises(ValueError, match="non-empty sequence"):
        compare(x, y, metrics=[])
    with pytest.raises(TypeError, match="sequence of metric names"):
        compare(x, y, metrics="cka")
    with pytest.raises(ValueError, match=r"Expected `k` to be an int in \[1, 149\]"):
        compare(x, y, k=150)
    with pytest.raises(ValueError, match="Expected `n_permutations`"):
        compare(x, y, n_permutations=-1)
    with pytest.raises(ValueError, match="`a` and `b` to have the same number of rows"):
        compare(x, y[:10])
    with pytest.raises(ValueError, match="Expected `seed`"):
        compare(x, y, seed=-3)


def test_importing_metrics_and_translate_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, relreps.metrics, relreps.translate\n"
        "heavy = {'torch', 'scipy', 'sklearn', 'faiss', 'matplotlib', 'dask'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
