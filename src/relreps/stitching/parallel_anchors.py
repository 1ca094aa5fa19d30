"""Zero-shot stitching across two encoders through parallel anchors (e.g. two languages).

A head is trained on the relative vectors of one encoder (the *source*: say an English model on
English reviews) and reads, unchanged, the relative vectors of another encoder (the *target*: a
French model on French reviews). The two relative spaces share their coordinates because the
anchors are *parallel*: anchor ``i`` is the pair ``(source text, target text)``, each side embedded
by its own encoder. This is the paper's cross-lingual stitching (section 5.2); the absolute
baseline feeds the target's raw vectors to a head trained on the source's raw vectors (defined only
when the widths agree).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from relreps._validation import check_int, check_matrix, fail

__all__ = ["parallel_anchor_stitching"]


def _labels(y: Any, n_rows: int, name: str) -> np.ndarray:
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != n_rows:
        raise fail(name, f"{n_rows} labels (one per row)", f"shape {labels.shape}")
    return labels


def parallel_anchor_stitching(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    pairs: Sequence[tuple[str, str]],
    encode_source: Callable[[list[str]], Any],
    encode_target: Callable[[list[str]], Any],
    *,
    n_anchors: int,
    seeds: Sequence[int] = (0,),
    n_classes: int | None = None,
    head: Callable[[int, int, int], Any] | None = None,
    scoring: str = "f1_weighted",
) -> dict[str, list[float] | None]:
    """Train on the source encoder's relative vectors, score on the target encoder's, zero-shot.

    For each seed, ``n_anchors`` pairs are drawn (``numpy.random.default_rng(seed)``; all of them
    when there are fewer), their source sides embedded by ``encode_source`` and their target sides
    by ``encode_target``; ``x_train`` is projected on the source anchors and ``x_test`` on the
    target anchors (:func:`relreps.relative_projection`, cosine), a head fitted on the first reads
    the second.

    Args:
        x_train: (n_train, d_s) training rows embedded by the source encoder.
        y_train: (n_train,) integer class labels in ``[0, n_classes)``.
        x_test: (n_test, d_t) test rows embedded by the target encoder.
        y_test: (n_test,) their labels.
        pairs: parallel ``(source text, target text)`` anchors, e.g.
            :func:`relreps.datasets.parallel_spaces.cldr_phrase_pairs`.
        encode_source, encode_target: a list of texts -> (n, d_s) / (n, d_t) vectors (an
            encoder's ``encode``).
        n_anchors: anchors drawn per seed.
        seeds: one draw and one head seed each.
        n_classes: default ``max(y_train) + 1``.
        head: ``factory(in_features, n_classes, seed)`` of ``fit(x, y)``/``predict(x)`` heads;
            default :class:`relreps.stitching.MLPHeadFactory` (needs torch).
        scoring: a name of :data:`relreps.stitching.SCORERS` (default: weighted F1 x100).

    Returns:
        ``{"relative": [score per seed], "absolute": [score per seed] or None}`` (None when
        ``d_s != d_t``: raw vectors of different widths cannot be read by one head).

    Raises:
        ValueError: non-finite or non-2-D matrices, labels not one per row, no pairs, or
            ``n_anchors`` / ``seeds`` out of range.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> words = [f"w{i}" for i in range(40)]
        >>> table = {w: rng.normal(size=4) for w in words}
        >>> flip = np.eye(4)[::-1]  # the target encoder: the same geometry, other coordinates
        >>> source = lambda texts: np.stack([table[t] for t in texts])
        >>> target = lambda texts: source(texts) @ flip
        >>> y = (source(words)[:, 0] > 0).astype(int)
        >>> out = parallel_anchor_stitching(
        ...     source(words), y, target(words), y, [(w, w) for w in words], source, target,
        ...     n_anchors=20, head=lambda d, c, s: LogisticRegression(), scoring="accuracy")
        >>> out["relative"][0] > out["absolute"][0]
        True
    """
    from relreps.projection import relative_projection
    from relreps.stitching.heads import MLPHeadFactory
    from relreps.stitching.scores import score

    x_train = np.asarray(check_matrix(x_train, "x_train", shape_doc="(n_train, d_s)"))
    x_test = np.asarray(check_matrix(x_test, "x_test", shape_doc="(n_test, d_t)"))
    y_train = _labels(y_train, len(x_train), "y_train")
    y_test = _labels(y_test, len(x_test), "y_test")
    pairs = list(pairs)
    if not pairs:
        raise fail("pairs", "at least one (source, target) anchor pair", "none")
    check_int(n_anchors, "n_anchors", low=1)
    if not seeds:
        raise fail("seeds", "at least one seed", "none")
    classes = (
        int(np.max(y_train)) + 1 if n_classes is None else check_int(n_classes, "n_classes", low=1)
    )
    factory = MLPHeadFactory() if head is None else head

    def fitted_score(fit_on: np.ndarray, read: np.ndarray, seed: int) -> float:
        fitted = factory(fit_on.shape[1], classes, seed).fit(fit_on, y_train)
        return score(scoring, y_test, fitted.predict(read))

    relative, absolute = [], []
    for seed in seeds:
        chosen = np.random.default_rng(check_int(seed, "seed")).permutation(len(pairs))[:n_anchors]
        a_source = np.asarray(encode_source([pairs[i][0] for i in chosen]))
        a_target = np.asarray(encode_target([pairs[i][1] for i in chosen]))
        rel_train = np.asarray(relative_projection(x_train, a_source))
        rel_test = np.asarray(relative_projection(x_test, a_target))
        relative.append(fitted_score(rel_train, rel_test, seed))
        if x_train.shape[1] == x_test.shape[1]:
            absolute.append(fitted_score(x_train, x_test, seed))
    return {"relative": relative, "absolute": absolute or None}
