"""One factor at a time: which choices of the frozen stitching head make stitching work.

:func:`head_ablation` scores a zoo of frozen encoders' spaces with the default relative head
(:class:`relreps.stitching.HeadConfig`) and with every setting :func:`head_settings` lists, each
changing ONE factor of it: the head (linear or MLP), the normalisation of the relative vector,
the number of anchors, anchor centring, the similarity (every registered one) and the training
budget. Each setting gets the mean not-stitched score (every head on its own encoder) and the
mean stitched score (every head on every other encoder) of a :func:`stitching_grid`, and their
ratio, the kept fraction; :func:`ablation_table` lays the rows out as a report table. The
defaults of :class:`HeadConfig` rest on such a table (docs/stitching.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from relreps._validation import check_int, fail
from relreps.results import Table, kept_fraction, rounded
from relreps.stitching.frozen import NORMS, FrozenHeadFactory
from relreps.stitching.head_config import DEFAULTS, HeadConfig
from relreps.stitching.spaces import Space

__all__ = [
    "ANCHOR_COUNTS",
    "TRAINING_EPOCHS",
    "AblationRow",
    "HeadSetting",
    "ablation_table",
    "head_ablation",
    "head_settings",
]

TRAINING_EPOCHS = (5, 20)
"""Head training budgets of the ablation: passes over the rows (at least ``min_steps`` steps)."""

ANCHOR_COUNTS = (10, 50, 100, 300, 1000)
"""Anchor counts of the ablation (a count above the training rows is left out)."""


@dataclass(frozen=True)
class HeadSetting:
    """One setting of the ablation: ``factor`` (``"head"``, ``"norm"``, ``"anchors"``,
    ``"centring"``, ``"similarity"``, ``"training"``), its ``label`` in tables, ``change``: the
    :class:`HeadConfig` fields it sets (``head``, ``hidden``, ``norm``, ``center``,
    ``similarity``, ``epochs``) or ``anchors`` (the anchor count), and whether it is the default
    head's value of that factor."""

    factor: str
    label: str
    change: Mapping[str, Any] = field(default_factory=dict)
    default: bool = False


@dataclass(frozen=True)
class AblationRow:
    """One setting's mean relative scores: ``own`` (not stitched) and ``stitched``."""

    factor: str
    setting: str
    own: float
    stitched: float
    default: bool = False

    @property
    def kept(self) -> float:
        """Stitched / own (:func:`relreps.results.kept_fraction`)."""
        return kept_fraction(self.stitched, self.own)


def head_settings(
    head: HeadConfig = DEFAULTS,
    n_anchors: int | None = None,
    anchor_counts: Sequence[int] = ANCHOR_COUNTS,
    epochs: Sequence[int] = TRAINING_EPOCHS,
) -> list[HeadSetting]:
    """Every setting of the ablation around ``head``, its own value marked default per factor.

    Args:
        head: the default head.
        n_anchors: the default anchor count (default ``head.n_anchors``); it is added to
            ``anchor_counts`` when missing, as ``head.epochs`` is to ``epochs``.
        anchor_counts: the anchor counts tried.
        epochs: the training budgets tried (passes over the rows).

    Example:
        >>> rows = head_settings(HeadConfig(), 300, (10, 300))
        >>> [(s.factor, s.label) for s in rows if s.default][:3]
        [('head', 'linear'), ('norm', 'layernorm'), ('anchors', '300')]
    """
    from relreps.similarity import similarities

    if not isinstance(head, HeadConfig):
        raise fail("head", "a HeadConfig", type(head).__name__, TypeError)
    n_anchors = check_int(head.n_anchors if n_anchors is None else n_anchors, "n_anchors", low=1)
    counts = [check_int(k, "anchor_counts", low=1) for k in anchor_counts]
    budgets = [check_int(e, "epochs", low=1) for e in epochs]
    settings = [
        HeadSetting("head", "linear", {"head": "linear"}, head.head == "linear"),
        HeadSetting("head", "MLP (128 hidden)", {"head": "mlp", "hidden": 128}, head.head == "mlp"),
    ]
    settings += [HeadSetting("norm", n, {"norm": n}, n == head.norm) for n in NORMS]
    settings += [
        HeadSetting("anchors", str(k), {"anchors": k}, k == n_anchors)
        for k in dict.fromkeys((*counts, n_anchors))
    ]
    settings += [
        HeadSetting("centring", "plain cosine", {"center": None}, head.center is None),
        HeadSetting(
            "centring", "anchor-centred cosine", {"center": "anchors"}, head.center is not None
        ),
    ]
    settings += [
        HeadSetting("similarity", s.name, {"similarity": s.name}, s.name == head.similarity)
        for s in similarities()
    ]
    settings += [
        HeadSetting("training", f"{e} epochs", {"epochs": e}, e == head.epochs)
        for e in dict.fromkeys((*budgets, head.epochs))
    ]
    return settings


def head_ablation(
    spaces: Sequence[Space],
    y_train: Any,
    y_test: Any,
    *,
    head: HeadConfig = DEFAULTS,
    n_anchors: int | None = None,
    anchor_counts: Sequence[int] = ANCHOR_COUNTS,
    epochs: Sequence[int] = TRAINING_EPOCHS,
    anchor_seed: int = 0,
    scoring: str = "accuracy",
    cache_dir: Any = None,
    progress: bool | None = None,
    on_row: Callable[[AblationRow], None] | None = None,
) -> tuple[AblationRow, ...]:
    """The relative own and stitched mean score of every :func:`head_settings` setting.

    For each setting, every space gets ``k`` class-stratified anchors drawn from the training
    rows (:func:`relreps.anchors.stratified` of ``y_train``, seed ``anchor_seed``; the spaces' own
    anchors are not used), and :func:`relreps.stitching.stitching_grid` trains the changed
    relative head (:class:`FrozenHeadFactory`) on each space and scores it on every space.

    Args:
        spaces: at least two :class:`Space` s of the same items (train rows: ``y_train``).
        y_train: (n_train,) class labels; y_test: (n_test,) class labels.
        head, n_anchors, anchor_counts, epochs: the default head and the values tried
            (:func:`head_settings`); anchor counts above ``n_train`` are left out.
        anchor_seed: seed of the anchor draws.
        scoring: a :data:`relreps.stitching.SCORERS` classification score.
        cache_dir: the grid's cell cache (settings sharing a head reuse its cells).
        progress: show the grid's progress bars.
        on_row: called with each row once it is measured (e.g. to log it).

    Returns:
        One :class:`AblationRow` per setting: ``own`` the mean of the grid's diagonal (each head
        on its own encoder), ``stitched`` the mean of the off-diagonal cells.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y_tr, y_te = np.arange(60) % 2, np.arange(20) % 2
        >>> def space(name, seed):
        ...     w = np.random.default_rng(seed).normal(size=(2, 4))
        ...     x_tr, x_te = np.eye(2)[y_tr] @ w, np.eye(2)[y_te] @ w
        ...     return Space(name, x_tr + rng.normal(size=(60, 4)) * 0.1, x_te, x_tr[:4])
        >>> rows = head_ablation([space("a", 1), space("b", 2)], y_tr, y_te,
        ...                      head=HeadConfig(epochs=1, min_steps=10), anchor_counts=(4,),
        ...                      epochs=(1,), n_anchors=4)
        >>> sorted({r.factor for r in rows}), all(0 <= r.stitched <= 1 for r in rows)
        (['anchors', 'centring', 'head', 'norm', 'similarity', 'training'], True)
    """
    from relreps.anchors import stratified
    from relreps.stitching.grid import stitching_grid

    spaces = list(spaces)
    if len(spaces) < 2 or not all(isinstance(s, Space) for s in spaces):
        got = f"{len(spaces)} items of types {sorted({type(s).__name__ for s in spaces})}"
        raise fail("spaces", "at least two relreps.stitching.Space", got, TypeError)
    labels = np.asarray(y_train)
    n_anchors = head.n_anchors if n_anchors is None else n_anchors
    rows = []
    for setting in head_settings(head, n_anchors, anchor_counts, epochs):
        change = dict(setting.change)
        k = change.pop("anchors", n_anchors)
        if k > len(labels):
            continue
        # the grid applies the similarity and the centring; the head config keeps the rest
        similarity = change.pop("similarity", head.similarity)
        center = change.pop("center", head.center)
        idx = stratified(labels, k, seed=anchor_seed)
        subset = [Space(s.name, s.train, s.test, np.asarray(s.train)[idx]) for s in spaces]
        result = stitching_grid(
            subset,
            y_train,
            y_test,
            scoring=scoring,
            head=FrozenHeadFactory(replace(head, **change)),
            methods=("relative",),
            similarity=similarity,
            center=center,
            cache_dir=cache_dir,
            progress=progress,
        )
        matrix = result.pair_mean("relative")
        off = ~np.eye(len(subset), dtype=bool)
        own, stitched = float(np.nanmean(np.diag(matrix))), float(np.nanmean(matrix[off]))
        rows.append(AblationRow(setting.factor, setting.label, own, stitched, setting.default))
        if on_row is not None:
            on_row(rows[-1])
    return tuple(rows)


def ablation_table(rows: Sequence[AblationRow], title: str, note: str = "") -> Table:
    """Ablation rows as a table: factor, setting, not stitched and stitched (1 decimal), kept
    (3 decimals) and ``"yes"`` on the default settings.

    Example:
        >>> ablation_table([AblationRow("norm", "l2", 80.0, 60.0, True)], "t").rows
        (('norm', 'l2', 80.0, 60.0, 0.75, 'yes'),)
    """
    bad = sorted({type(r).__name__ for r in rows if not isinstance(r, AblationRow)})
    if bad:
        raise fail(
            "rows", "a sequence of AblationRow", f"items of type {', '.join(bad)}", TypeError
        )
    return Table(
        title=title,
        columns=("factor", "setting", "not stitched", "stitched", "kept", "default"),
        rows=tuple(
            (
                r.factor,
                r.setting,
                rounded(r.own, 1),
                rounded(r.stitched, 1),
                rounded(r.kept, 3),
                "yes" if r.default else "",
            )
            for r in rows
        ),
        note=note,
    )
