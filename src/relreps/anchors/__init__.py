"""Anchors: choosing, inspecting and carrying the reference samples of relative representations.

Selection functions return int64 indices into the candidates, seeded and deterministic:

- :func:`random` - uniform without replacement.
- :func:`stratified` - class-balanced round robin (the paper's default for images).
- :func:`kmeans` - the real sample nearest each k-means centroid.
- :func:`farthest_point` - greedy farthest-point sampling.
- :func:`top_ranked` - uniform among the head of a ranking (e.g. the most frequent words).
- :func:`select` - any of the first four by name (:data:`STRATEGIES`); :func:`pca_coordinates`
  gives an encoder-free space to choose in.

Several spaces over the same samples: :func:`take` applies indices to every space and
:func:`joint_space` lets a selection see all spaces at once. :func:`diagnose` inspects an anchor
set; :class:`ParallelAnchors` carries anchor identities across domains (vocabularies,
languages), serialisable to JSON, and :func:`anchor_keys` turns identities into plain keys.

Example:
    >>> import numpy as np
    >>> from relreps import anchors
    >>> rng = np.random.default_rng(0)
    >>> x_a, x_b = rng.normal(size=(200, 16)), rng.normal(size=(200, 8))
    >>> idx = anchors.farthest_point(anchors.joint_space(x_a, x_b), 10, seed=0)
    >>> anchors_a, anchors_b = anchors.take(idx, x_a, x_b)
    >>> anchors_a.shape, anchors_b.shape
    ((10, 16), (10, 8))
"""

from relreps.anchors.clustering import kmeans
from relreps.anchors.diagnostics import AnchorDiagnostics, Coverage, diagnose
from relreps.anchors.farthest import farthest_point
from relreps.anchors.parallel import AnchorRows, ParallelAnchors, anchor_keys
from relreps.anchors.selection import class_counts, random, stratified, top_ranked
from relreps.anchors.spaces import joint_space, take
from relreps.anchors.strategies import STRATEGIES, pca_coordinates, select

__all__ = [
    "STRATEGIES",
    "AnchorDiagnostics",
    "AnchorRows",
    "Coverage",
    "ParallelAnchors",
    "anchor_keys",
    "class_counts",
    "diagnose",
    "farthest_point",
    "joint_space",
    "kmeans",
    "pca_coordinates",
    "random",
    "select",
    "stratified",
    "take",
    "top_ranked",
]
