"""relreps.report.cluster_views: k-means colours and the picture of unlabelled paired spaces."""

from __future__ import annotations

import numpy as np
import pytest

from relreps.report.cluster_views import cluster_labels, cluster_space_views


def test_cluster_labels_separate_directions_and_ignore_scale(rng):
    directions = np.eye(3)
    x = np.repeat(directions, 20, axis=0) + 0.05 * rng.normal(size=(60, 3))
    labels = cluster_labels(x, 3, seed=1)
    assert labels.dtype == np.int64 and labels.shape == (60,)
    groups = [set(labels[i * 20 : (i + 1) * 20].tolist()) for i in range(3)]
    assert all(len(g) == 1 for g in groups) and len(set.union(*groups)) == 3
    scaled = x * rng.uniform(0.5, 5.0, size=(60, 1))  # cosine clusters: the scale does not matter
    assert np.array_equal(cluster_labels(scaled, 3, seed=1), labels)


def test_cluster_labels_rejects_bad_input():
    with pytest.raises(ValueError, match="n_clusters"):
        cluster_labels(np.ones((4, 2)), 5)
    with pytest.raises(ValueError):
        cluster_labels(np.ones(4), 2)


def test_cluster_space_views_writes_the_figure(tmp_path, rng):
    x = rng.normal(size=(50, 4))
    spaces = {"a": x, "wider": np.hstack([x, x])}
    figure = cluster_space_views(spaces, "f/v.png", n_anchors=8, root=tmp_path, caption="c")
    assert figure.path == "f/v.png" and figure.caption == "c"
    assert (tmp_path / "f" / "v.png").stat().st_size > 1000


def test_cluster_space_views_rejects_unpaired_spaces(tmp_path, rng):
    with pytest.raises(ValueError, match="same samples"):
        cluster_space_views(
            {"a": rng.normal(size=(10, 3)), "b": rng.normal(size=(12, 3))},
            "v.png",
            n_anchors=3,
            root=tmp_path,
        )
    with pytest.raises(ValueError, match="n_anchors"):
        cluster_space_views({"a": np.ones((5, 2)), "b": np.ones((5, 2))}, "v.png", n_anchors=6)
