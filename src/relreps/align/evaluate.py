"""Score an alignment against pairs it never saw: a held-out split, retrieval and stitching.

To compare alignment methods on two spaces whose row correspondence is known (row ``i`` of X and
of Y is the same item), hide part of that knowledge:

- :func:`held_out_split` holds out items for scoring, keeps the rest as a fitting pool (known
  pairs are taken from it) and shuffles Y's rows, so no method can use the row order;
- :func:`partner_retrieval`: top-1 and MRR@k of each mapped held-out X item retrieving its own
  Y item among all held-out Y items (cosine);
- :func:`stitched_accuracy`: a logistic-regression head trained on labelled Y vectors, applied
  to X items brought into Y (translated, or relative vectors of both spaces);
- :func:`compare_methods`: all of it for every method at every number ``m`` of known pairs:
  relative matching, Procrustes, :func:`~relreps.align.bootstrap_alignment` and (``m = 0``)
  :func:`~relreps.align.align_unpaired`, one :class:`MethodScore` each; :func:`score_table`
  lays one score out as a method x m :class:`~relreps.results.Table` (:func:`score_tables`:
  every score of one comparison); :func:`false_passes`
  finds the alignments that passed their own check with a map the held-out pairs show wrong;
- :func:`unrelated_spaces_check`: the control with nothing to find, two unrelated random spaces
  aligned without pairs, which a sound self-consistency check reports as failed.

Example:
    >>> import numpy as np
    >>> from relreps.align import align_pairs
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 8))
    >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    >>> split = held_out_split(500, 100, seed=0)
    >>> y = (x @ q)[split.y_order]                 # Y's rows shuffled
    >>> fitted = align_pairs(x, y, split.pairs(50))
    >>> top1, mrr = partner_retrieval(fitted.transform(x[split.held]), y[split.where[split.held]])
    >>> round(top1, 3), round(mrr, 3)
    (1.0, 1.0)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from relreps._validation import (
    check_choice,
    check_float,
    check_int,
    check_matrix,
    check_paired,
    check_same_features,
    fail,
)
from relreps.results import Table

__all__ = [
    "SCORE_TITLES",
    "HeldOutSplit",
    "MethodScore",
    "compare_methods",
    "false_passes",
    "held_out_split",
    "partner_retrieval",
    "score_table",
    "score_tables",
    "stitched_accuracy",
    "unrelated_spaces_check",
]


@dataclass(frozen=True, eq=False)
class HeldOutSplit:
    """Which items are held out, which may be known pairs, and how Y's rows are shuffled.

    Attributes:
        held: (n_held,) int64 held-out items (scored, never known).
        pool: (n_items - n_held,) int64 items of the fitting pool, in random order; known pairs
            are its first items (:meth:`pairs`).
        y_order: (n_items,) int64 permutation: row ``r`` of the shuffled Y is item
            ``y_order[r]`` (``y_shuffled = y[y_order]``).
        where: (n_items,) int64 inverse of ``y_order``: item ``i`` is row ``where[i]`` of the
            shuffled Y.
    """

    held: np.ndarray
    pool: np.ndarray
    y_order: np.ndarray
    where: np.ndarray

    def pairs(self, m: int | None = None) -> np.ndarray:
        """(m, 2) known pairs (X row, shuffled-Y row) of the first ``m`` pool items.

        ``m=None`` (or more than the pool holds) gives every pool item.

        Example:
            >>> held_out_split(10, 2, seed=0).pairs(3).shape
            (3, 2)
        """
        if m is not None:
            check_int(m, "m", low=0)
        items = self.pool if m is None else self.pool[: min(m, self.pool.size)]
        return np.stack([items, self.where[items]], axis=1)


def held_out_split(n_items: int, n_held: int, *, seed: int) -> HeldOutSplit:
    """Split ``n_items`` paired items into held-out items and a fitting pool; shuffle Y's rows.

    One seeded permutation of the items gives the held-out items (its first ``n_held``) and the
    fitting pool (the rest, in that order); a second permutation of the same generator shuffles
    Y's rows.

    Args:
        n_items: rows of each space (>= 2).
        n_held: held-out items, in ``[1, n_items - 1]``.
        seed: seed of both permutations (>= 0).

    Returns:
        A :class:`HeldOutSplit`.

    Raises:
        TypeError / ValueError: a non-integer argument or one out of range.

    Example:
        >>> split = held_out_split(6, 2, seed=0)
        >>> split.held.size, split.pool.size, bool((split.y_order[split.where] == range(6)).all())
        (2, 4, True)
    """
    n_items = check_int(n_items, "n_items", low=2)
    n_held = check_int(n_held, "n_held", low=1, high=n_items - 1, hint="n_items - 1")
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    order = rng.permutation(n_items)
    y_order = rng.permutation(n_items)
    return HeldOutSplit(order[:n_held], order[n_held:], y_order, np.argsort(y_order))


def partner_retrieval(source: Any, target: Any, *, k: int = 10) -> tuple[float, float]:
    """Top-1 and MRR@k of source row ``i`` retrieving target row ``i`` among all targets (cosine).

    Args:
        source: (n, d) X items brought into Y's space (translated, or relative vectors): the
            queries.
        target: (n, d) their true partners in Y's space, row ``i`` the partner of source row
            ``i``.
        k: retrieved targets per query (>= 1; at most ``n`` are retrieved); a partner not among
            them scores 0.

    Returns:
        ``(top1, mrr)``: the share of queries whose nearest target is their partner, and the mean
        of ``1 / rank`` of the partner among the ``k`` retrieved targets. Ties go to the lower
        target row (:func:`relreps.metrics.knn`).

    Raises:
        ValueError: not 2-D, different numbers of rows or of features, NaN/Inf.

    Example:
        >>> t = np.eye(3)
        >>> partner_retrieval(np.array([[1.0, 0, 0], [0.9, 0.5, 0], [0, 1.0, 0]]), t, k=2)
        (0.3333333333333333, 0.5)
    """
    from relreps.metrics import knn

    source = check_matrix(source, "source", shape_doc="(n, d)")
    target = check_matrix(target, "target", shape_doc="(n, d)")
    check_paired(source, "source", target, "target")
    check_same_features(source, "source", target, "target")
    k = min(check_int(k, "k", low=1), target.shape[0])
    found = np.asarray(knn(source, target, k).indices)
    hits = found == np.arange(source.shape[0])[:, None]
    return float(hits[:, 0].mean()), float((hits / np.arange(1, k + 1)).sum(axis=1).mean())


def _labels(labels: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise fail(name, f"a 1-D array of {n} labels", f"shape {arr.shape}")
    return arr


def stitched_accuracy(
    train: Any, train_labels: Any, test: Any, test_labels: Any, *, max_iter: int = 300
) -> float:
    """Accuracy of a head trained in Y's space on X items brought into it (needs scikit-learn).

    The head: features standardised on ``train``, then a logistic regression
    (``LogisticRegression(max_iter=max_iter)``).

    Args:
        train: (n_train, d) labelled vectors of Y's space.
        train_labels: (n_train,) their labels.
        test: (n_test, d) X items in Y's space (translated, or relative vectors).
        test_labels: (n_test,) the test items' labels.
        max_iter: most iterations of the logistic regression.

    Returns:
        The share of test items whose predicted label is right, in [0, 1].

    Raises:
        ValueError: wrong shapes, different widths, NaN/Inf.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> labels = rng.integers(0, 2, size=200)
        >>> y = rng.normal(size=(200, 4)) + 3.0 * labels[:, None]
        >>> stitched_accuracy(y[:100], labels[:100], y[100:], labels[100:])
        1.0
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train = check_matrix(train, "train", shape_doc="(n_train, d)")
    test = check_matrix(test, "test", shape_doc="(n_test, d)")
    check_same_features(train, "train", test, "test")
    train_labels = _labels(train_labels, train.shape[0], "train_labels")
    test_labels = _labels(test_labels, test.shape[0], "test_labels")
    scaler = StandardScaler().fit(train)
    head = LogisticRegression(max_iter=check_int(max_iter, "max_iter", low=1))
    head.fit(scaler.transform(train), train_labels)
    return float(np.mean(head.predict(scaler.transform(test)) == test_labels))


#: The methods :func:`compare_methods` scores, in table order.
METHODS = ("relative", "procrustes", "bootstrap", "unpaired")
#: Fields of a :class:`MethodScore` that only a found alignment (bootstrap, unpaired) has.
ALIGNMENT_FIELDS = ("detail", "consistency", "stability", "stability_null", "stability_seconds",
                    "stability_conclusive")  # fmt: skip


@dataclass(frozen=True)
class MethodScore:
    """One method at one number of known pairs, scored on the held-out items.

    Attributes:
        method: ``"relative"``, ``"procrustes"``, ``"bootstrap"`` or ``"unpaired"``.
        m: known pairs (``0`` for unpaired; None: every pair of the fitting pool).
        top1, mrr10: :func:`partner_retrieval` of the held-out items (0 for no map).
        accuracy: :func:`stitched_accuracy`, or None without labels or without a map.
        status: ``"ok"``, or ``"failed"`` when the alignment reported itself failed (no map).
        seconds: fitting and scoring time (0.0 for relative matching, which fits nothing).
        detail: the alignment's method (``"bootstrap+gw-norm"``, ``"unpaired:pca"``, ...).
        consistency: its self-consistency score, or None.
        stability, stability_null, stability_seconds, stability_conclusive: its restart check
            (:class:`relreps.align.stability.Stability`: agreement, null agreement, seconds,
            conclusive), or None when not run.
    """

    method: str
    m: int | None
    top1: float
    mrr10: float
    accuracy: float | None
    status: str
    seconds: float
    detail: str | None = None
    consistency: float | None = None
    stability: float | None = None
    stability_null: float | None = None
    stability_seconds: float | None = None
    stability_conclusive: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields; those of :data:`ALIGNMENT_FIELDS` only for bootstrap and unpaired."""
        data = asdict(self)
        if self.method not in ("bootstrap", "unpaired"):
            for key in ALIGNMENT_FIELDS:
                del data[key]
        return data


@dataclass(frozen=True, eq=False)
class _Evaluation:
    """X (float64), Y shuffled (float64), the split, the labels and the items the stitched
    accuracy head is trained on."""

    x: np.ndarray
    y: np.ndarray
    split: HeldOutSplit
    labels: np.ndarray | None
    head: np.ndarray

    def y_of(self, items: np.ndarray) -> np.ndarray:
        return self.y[self.split.where[items]]

    def scores(self, queries: Any, targets: Any, head: Any) -> dict[str, Any]:
        """Retrieval of ``targets`` by ``queries`` and the accuracy of a head fitted on ``head``
        (Y-side vectors of ``self.head``); all 0 for no map (``queries=None``)."""
        if queries is None:
            return {"top1": 0.0, "mrr10": 0.0, "accuracy": None}
        top1, mrr = partner_retrieval(queries, targets)
        labels, held = self.labels, self.split.held
        accuracy = None
        if labels is not None:
            accuracy = stitched_accuracy(head, labels[self.head], queries, labels[held])
        return {"top1": top1, "mrr10": mrr, "accuracy": accuracy}

    def mapped(
        self, method: str, m: int | None, fitted: Any, start: float, **extra: Any
    ) -> MethodScore:
        """The score of a fitted map (None: no map) begun at ``start`` (perf_counter)."""
        held = self.split.held
        queries = None if fitted is None else np.asarray(fitted.transform(self.x[held]))
        scores = self.scores(queries, self.y_of(held), self.y_of(self.head))
        extra.setdefault("status", "ok")
        return MethodScore(method, m, **scores, seconds=time.perf_counter() - start, **extra)

    def relative(self, m: int, pairs: np.ndarray) -> MethodScore:
        """Relative-representation matching: cosines to the ``m`` seed anchors in each space."""
        from relreps.projection import relative_projection

        def rel(v: np.ndarray, rows: np.ndarray, anchors: np.ndarray) -> np.ndarray:
            return np.asarray(relative_projection(v[rows], v[anchors], center="anchors"))

        held, where = self.split.held, self.split.where
        y_rel = (rel(self.y, where[held], pairs[:, 1]), rel(self.y, where[self.head], pairs[:, 1]))
        scores = self.scores(rel(self.x, held, pairs[:, 0]), *y_rel)
        return MethodScore("relative", m, **scores, status="ok", seconds=0.0)

    def alignment(self, method: str, m: int, result: Any, start: float) -> MethodScore:
        """The score of a bootstrapped or unpaired alignment, with its check and restart."""
        check = result.consistency
        stable = None if check is None else check.stability
        restart = {}
        if stable is not None:
            restart = {"stability": stable.agreement, "stability_null": stable.null_agreement,
                       "stability_seconds": stable.seconds,
                       "stability_conclusive": stable.conclusive}  # fmt: skip
        fitted = result if result.ok else None
        consistency = None if check is None else check.score
        return self.mapped(method, m, fitted, start, status=result.status, detail=result.method,
                           consistency=consistency, **restart)  # fmt: skip


def _check_ms(ms: Sequence[int | None]) -> list[int | None]:
    out = []
    for m in ms:
        if m is not None and check_int(m, "ms[i]", low=0) in (1, 2):
            raise fail("ms", "0 (unpaired), >= 3 known pairs, or None (all pairs)", repr(list(ms)))
        out.append(m)
    if not out:
        raise fail("ms", "at least one number of known pairs", "an empty sequence")
    return out


def compare_methods(
    x: Any,
    y: Any,
    ms: Sequence[int | None],
    *,
    n_held: int,
    labels: Any = None,
    settings: Any = None,
    seed: int = 0,
    head_size: int = 4000,
) -> list[MethodScore]:
    """Score every alignment method at every number of known pairs on two paired spaces.

    Row ``i`` of ``x`` and of ``y`` is the same item. :func:`held_out_split` (``seed``) holds
    out ``n_held`` items and shuffles Y's rows; the known pairs at ``m`` are the first ``m``
    items of the fitting pool. Per ``m``: ``0`` -> :func:`~relreps.align.align_unpaired`;
    ``m >= 3`` -> relative matching on the ``m`` seed anchors, Procrustes on the ``m`` pairs and
    :func:`~relreps.align.bootstrap_alignment` from them; ``None`` -> Procrustes on every pool
    pair (the reference). Held-out items are scored by :func:`partner_retrieval` and, with
    ``labels``, :func:`stitched_accuracy` (head trained on the first ``head_size`` pool items).

    Args:
        x: (n_items, d_x) space X.
        y: (n_items, d_y) space Y.
        ms: numbers of known pairs: ``0``, ``>= 3`` or None.
        n_held: held-out items, in ``[1, n_items - 1]``.
        labels: (n_items,) labels of the items, or None (no stitched accuracy).
        settings: :class:`~relreps.align.RefineSettings` of bootstrap and unpaired (None: the
            defaults).
        seed: seed of the split and of the alignments (>= 0).
        head_size: most pool items the stitched-accuracy head is trained on (>= 1).

    Returns:
        One :class:`MethodScore` per (m, method), in the order of ``ms`` and, per ``m``,
        relative, procrustes, bootstrap.

    Raises:
        ValueError: spaces not 2-D, unpaired or not finite, labels of another length, an ``m``
            of 1 or 2, ``n_held`` out of range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.gamma(2.0, size=(600, 6)) * np.linspace(3.0, 1.0, 6)
        >>> q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
        >>> scores = compare_methods(x, x @ q, [None], n_held=100)
        >>> [(s.method, s.m, round(s.top1, 2)) for s in scores]
        [('procrustes', None, 1.0)]
    """
    from relreps.align.bootstrap import bootstrap_alignment
    from relreps.align.unpaired import align_unpaired
    from relreps.translate import Procrustes

    x = check_matrix(x, "x", shape_doc="(n_items, d_x)", min_rows=2)
    y = check_matrix(y, "y", shape_doc="(n_items, d_y)", min_rows=2)
    check_paired(x, "x", y, "y")
    n = x.shape[0]
    labels = None if labels is None else _labels(labels, n, "labels")
    ms = _check_ms(ms)
    split = held_out_split(n, n_held, seed=seed)
    head = split.pool[: check_int(head_size, "head_size", low=1)]
    data = _Evaluation(np.asarray(x, dtype=np.float64),
                       np.asarray(np.asarray(y)[split.y_order], dtype=np.float64), split, labels,
                       head)  # fmt: skip
    x, y = data.x, data.y
    scores = []
    for m in ms:
        start = time.perf_counter()
        if m == 0:
            result = align_unpaired(x, y, settings=settings, seed=seed)
            scores.append(data.alignment("unpaired", m, result, start))
            continue
        pairs = split.pairs(m)
        if m is not None:
            scores.append(data.relative(m, pairs))
            start = time.perf_counter()
        fitted = Procrustes(standardize="global").fit(x[pairs[:, 0]], y[pairs[:, 1]])
        scores.append(data.mapped("procrustes", m, fitted, start))
        if m is not None:
            start = time.perf_counter()
            result = bootstrap_alignment(x, y, pairs, settings=settings, seed=seed)
            scores.append(data.alignment("bootstrap", m, result, start))
    return scores


def _cell(score: MethodScore | None, scoring: str, digits: int) -> Any:
    if score is None or (value := getattr(score, scoring)) is None:
        return None
    return round(value, digits) if score.status == "ok" else "failed"


def score_table(
    scores: Sequence[MethodScore], scoring: str, *, title: str, note: str = "", digits: int = 3
) -> Table:
    """One score of :func:`compare_methods` as a method x m table.

    Columns: ``m=<m>`` in the order the scores first name each ``m`` (``m=all`` for None); rows:
    the methods of :data:`METHODS` with at least one value. A cell is the value rounded to
    ``digits``, ``"failed"`` for an alignment that reported itself failed, or None (a dash)
    where the method did not run at that ``m`` or has no such value (no labels, no map).

    Args:
        scores: the :class:`MethodScore` list of one pair of spaces.
        scoring: ``"top1"``, ``"mrr10"`` or ``"accuracy"``.
        title, note: the table's title and note.
        digits: decimals of the cells.

    Returns:
        A :class:`~relreps.results.Table` (no rows when no method has the value).

    Example:
        >>> s = [MethodScore("procrustes", 3, 0.51234, 0.6, None, "ok", 0.0),
        ...      MethodScore("unpaired", 0, 0.0, 0.0, None, "failed", 1.0)]
        >>> score_table(s, "top1", title="t").rows
        (('procrustes', 0.512, None), ('unpaired', None, 'failed'))
    """
    scoring = check_choice(scoring, "scoring", ("top1", "mrr10", "accuracy"))
    digits = check_int(digits, "digits", low=0)
    ms = list(dict.fromkeys(s.m for s in scores))
    by = {(s.method, s.m): s for s in scores}
    body = []
    for method in METHODS:
        cells = [_cell(by.get((method, m)), scoring, digits) for m in ms]
        if any(c is not None for c in cells):
            body.append((method, *cells))
    columns = ("method", *(f"m={'all' if m is None else m}" for m in ms))
    return Table(title, columns, tuple(body), note)


#: The scores :func:`score_tables` lays out, with their title words.
SCORE_TITLES = {
    "top1": "held-out top-1",
    "mrr10": "held-out MRR@10",
    "accuracy": "stitched accuracy",
}


def score_tables(
    scores: Sequence[MethodScore], name: str, n_held: int, *, note: str = "", digits: int = 3
) -> list[Table]:
    """Every score of one comparison as a :func:`score_table`: top-1, MRR@10, stitched accuracy.

    Titled ``"<name>: <score> (<n_held> held-out items)"`` (:data:`SCORE_TITLES`); the
    accuracy table is left out when no method has an accuracy (no labels).

    Args:
        scores: the :class:`MethodScore` list of one pair of spaces.
        name: what is compared (the titles' prefix).
        n_held: held-out items the scores were measured on (>= 1).
        note, digits: as in :func:`score_table`.

    Example:
        >>> s = [MethodScore("procrustes", None, 0.9, 0.95, None, "ok", 0.0)]
        >>> [t.title for t in score_tables(s, "toy", 50)]
        ['toy: held-out top-1 (50 held-out items)', 'toy: held-out MRR@10 (50 held-out items)']
    """
    n_held = check_int(n_held, "n_held", low=1)
    tables = []
    for scoring, words in SCORE_TITLES.items():
        title = f"{name}: {words} ({n_held} held-out items)"
        table = score_table(scores, scoring, title=title, note=note, digits=digits)
        if table.rows or scoring != "accuracy":
            tables.append(table)
    return tables


def false_passes(scores: Sequence[MethodScore], share: float = 0.2) -> list[MethodScore]:
    """Alignments that passed their self-consistency check with a wrong map.

    A bootstrapped or unpaired score with status ``"ok"`` whose held-out top-1 is below
    ``share`` of the top-1 of Procrustes on every pool pair (``m=None``) of the same comparison:
    the check let through a map the held-out pairs show to be wrong (a silent wrong map).

    Args:
        scores: the :class:`MethodScore` list of one pair of spaces (:func:`compare_methods`
            with ``None`` among its ``ms``; without it nothing can be judged: empty list).
        share: the share of the reference top-1 below which a map is wrong, in (0, 1].

    Returns:
        The false passes, in the order of ``scores``.

    Example:
        >>> s = [MethodScore("procrustes", None, 0.9, 0.9, None, "ok", 0.0),
        ...      MethodScore("bootstrap", 3, 0.01, 0.02, None, "ok", 1.0),
        ...      MethodScore("unpaired", 0, 0.0, 0.0, None, "failed", 1.0)]
        >>> [(f.method, f.m) for f in false_passes(s)]
        [('bootstrap', 3)]
    """
    share = check_float(share, "share", low=0.0, high=1.0, low_inclusive=False)
    ref = [s.top1 for s in scores if s.method == "procrustes" and s.m is None]
    if not ref:
        return []
    return [
        s
        for s in scores
        if s.method in ("bootstrap", "unpaired") and s.status == "ok" and s.top1 < share * ref[0]
    ]


def unrelated_spaces_check(
    n_rows: int, dim: int = 384, *, n_rounds: int = 10, seed: int = 0
) -> dict[str, Any]:
    """Align two unrelated random spaces without pairs: nothing is there to find.

    Draws X then Y, each ``(n_rows, dim)`` standard normal, from ``np.random.default_rng(seed)``
    and runs :func:`~relreps.align.align_unpaired` on them (every row matched in each of at most
    ``n_rounds`` rounds). A sound self-consistency check reports ``"failed"``; an ``"ok"`` is a
    false pass.

    Args:
        n_rows: rows of each space (>= 2).
        dim: their dimension (>= 1).
        n_rounds: most refinement rounds (>= 1).
        seed: seed of the draws and of the alignment (>= 0).

    Returns:
        ``{"status": "ok" | "failed", "score": self-consistency score, "null": its null score}``.

    Example:
        >>> unrelated_spaces_check(300, 16, n_rounds=2)["status"]
        'failed'
    """
    from relreps.align.refine import RefineSettings
    from relreps.align.unpaired import align_unpaired

    n_rows = check_int(n_rows, "n_rows", low=2)
    dim = check_int(dim, "dim", low=1)
    n_rounds = check_int(n_rounds, "n_rounds", low=1)
    seed = check_int(seed, "seed", low=0)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n_rows, dim)), rng.normal(size=(n_rows, dim))
    settings = RefineSettings(sample_size=n_rows, max_candidates=n_rows, n_rounds=n_rounds)
    check = align_unpaired(x, y, settings=settings, seed=seed)
    return {"status": check.status, "score": check.consistency.score,
            "null": check.consistency.null_score}  # fmt: skip
