"""Stitching a zoo of models: spaces of frozen torch encoders, family groups, report tables.

- :func:`encoder_spaces`: one :class:`Space` per frozen torch encoder (train, test and anchor
  rows, the anchors being training rows).
- :class:`PairGroup`, :func:`pair_groups`, :func:`pooled_group`: the stitched and not-stitched
  means of a :class:`StitchingResult` per (encoder family, head family), or pooled over a subset
  of the models, with the kept fractions every stitching claim uses; :func:`merge_groups` pools
  several groups into one.
- :func:`summary_table`, :func:`matrix_table`: a result's summary rows and per-pair matrix as
  :class:`relreps.results.Table` s; :func:`pair_group_table`: groups, one row each.
- :func:`model_stitched_means`, :func:`model_table`: per model, the mean stitched score of the
  cells it takes part in (as encoder or as head), which shows the model that stitches badly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_names, fail
from relreps.results import Table, kept_fraction, mean_std_text, rounded
from relreps.stitching.result import StitchingResult
from relreps.stitching.spaces import Space

__all__ = [
    "PairGroup",
    "encoder_spaces",
    "matrix_table",
    "merge_groups",
    "model_stitched_means",
    "model_table",
    "pair_group_table",
    "pair_groups",
    "pooled_group",
    "summary_table",
]


def encoder_spaces(
    encoders: Mapping[str, Any],
    x_train: Any,
    x_test: Any,
    anchor_idx: Any,
    *,
    batch_size: int = 2048,
) -> list[Space]:
    """Embed the train and test inputs with each frozen torch encoder (no gradients).

    Args:
        encoders: name -> torch module mapping (n, *in_shape) inputs to (n, d) embeddings.
        x_train: (n_train, *in_shape) numpy inputs; the anchors are its rows ``anchor_idx``.
        x_test: (n_test, *in_shape) numpy inputs.
        anchor_idx: (n_anchors,) integer row indices into ``x_train``.
        batch_size: rows per forward pass.

    Returns:
        One :class:`Space` per encoder, in order, with anchor ids ``"train:<row>"``.

    Example:
        >>> import torch
        >>> enc = {"id": torch.nn.Identity()}
        >>> (s,) = encoder_spaces(enc, np.eye(3, dtype="float32"), np.ones((2, 3), "float32"), [2])
        >>> s.anchors.tolist(), s.anchor_ids
        ([[0.0, 0.0, 1.0]], ['train:2'])
    """
    import torch

    idx = np.asarray(anchor_idx)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer) or idx.size == 0:
        raise fail("anchor_idx", "a non-empty 1-D array of row indices", f"{idx!r}")
    if idx.min() < 0 or idx.max() >= len(x_train):
        raise fail("anchor_idx", f"row indices below {len(x_train)}", f"max {idx.max()}")

    def embed(encoder: Any, inputs: Any) -> np.ndarray:
        with torch.no_grad():
            batches = torch.from_numpy(np.asarray(inputs)).split(batch_size)
            return torch.cat([encoder(b) for b in batches]).numpy()

    anchor_ids = [f"train:{int(i)}" for i in idx]
    spaces = []
    for name, encoder in encoders.items():
        train = embed(encoder, x_train)
        spaces.append(Space(name, train, embed(encoder, x_test), train[idx], anchor_ids))
    return spaces


@dataclass(frozen=True)
class PairGroup:
    """Mean scores of the stitched cells from one group of encoders into one group of heads.

    Attributes:
        encoders, heads: the group names (``heads`` is empty for a pooled group).
        relative_stitched, absolute_stitched, translation_stitched: mean stitched score of each
            method (NaN where undefined; translation falls back to absolute when not run).
        relative_own, absolute_own: mean not-stitched score (each head on its own encoder).
        n_cells: the stitched cells with a relative score.
    """

    encoders: str
    heads: str
    relative_stitched: float
    relative_own: float
    absolute_own: float
    absolute_stitched: float
    translation_stitched: float
    n_cells: int

    @property
    def kept(self) -> float:
        """Relative stitched / relative not stitched."""
        return kept_fraction(self.relative_stitched, self.relative_own)

    @property
    def kept_vs_absolute(self) -> float:
        """Relative stitched / absolute not stitched."""
        return kept_fraction(self.relative_stitched, self.absolute_own)


def _mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def _matrices(result: StitchingResult) -> dict[str, np.ndarray]:
    if not isinstance(result, StitchingResult):
        raise fail("result", "a StitchingResult", type(result).__name__, TypeError)
    if not {"absolute", "relative"} <= set(result.methods):
        raise fail("result", "a grid with absolute and relative scores", f"{result.methods}")
    matrices = {m: result.pair_mean(m) for m in result.methods}
    matrices.setdefault("translation", matrices["absolute"])
    return matrices


def pair_groups(result: StitchingResult, family: Callable[[str], str]) -> tuple[PairGroup, ...]:
    """Per (encoder family, head family) with stitched cells, the stitched and own means.

    Stitched cells pair an encoder of the first family with a head of the second (the diagonal
    left out); the own means are the head family's diagonal cells.

    Args:
        result: a grid with ``absolute`` and ``relative`` scores (``translation`` optional).
        family: model name -> family name (``"mlp64/s0"`` -> ``"mlp"``).

    Example:
        >>> r = StitchingResult(("a/0", "a/1"), (0,), "f1", True, {
        ...     "relative": np.array([[90.0, 80.0], [70.0, 88.0]])[:, :, None],
        ...     "absolute": np.array([[91.0, 9.0], [8.0, 89.0]])[:, :, None]}, (), {}, 0, 0.0)
        >>> (g,) = pair_groups(r, lambda name: name.split("/")[0])
        >>> g.relative_stitched, g.relative_own, round(g.kept, 3)
        (75.0, 89.0, 0.843)
    """
    matrices = _matrices(result)
    fams = np.array([family(n) for n in result.names])
    diagonal = np.eye(len(fams), dtype=bool)

    def cells(method: str, rows: np.ndarray, cols: np.ndarray, stitched: bool) -> np.ndarray:
        mask = rows[:, None] & cols[None, :] & (~diagonal if stitched else diagonal)
        values = matrices[method][mask]
        return values[np.isfinite(values)]

    groups = []
    for enc in dict.fromkeys(fams.tolist()):
        for dec in dict.fromkeys(fams.tolist()):
            rows, cols = fams == enc, fams == dec
            stitched = cells("relative", rows, cols, True)
            if stitched.size == 0:
                continue
            groups.append(
                PairGroup(
                    encoders=enc,
                    heads=dec,
                    relative_stitched=_mean(stitched),
                    relative_own=_mean(cells("relative", cols, cols, False)),
                    absolute_own=_mean(cells("absolute", cols, cols, False)),
                    absolute_stitched=_mean(cells("absolute", rows, cols, True)),
                    translation_stitched=_mean(cells("translation", rows, cols, True)),
                    n_cells=int(stitched.size),
                )
            )
    return tuple(groups)


def pooled_group(
    result: StitchingResult,
    label: str,
    *,
    keep: Callable[[str], bool] | None = None,
    across: Callable[[str], str] | None = None,
) -> PairGroup:
    """One group pooling every stitched cell among the models ``keep`` selects.

    Args:
        result: a grid with ``absolute`` and ``relative`` scores (``translation`` optional).
        label: the group's name (its ``encoders``; ``heads`` is empty).
        keep: model name -> whether it takes part (default: every model).
        across: model name -> family; when given, only cells between different families count
            as stitched (``"MLP <-> CNN"``). The own means are over every kept model.

    Example:
        >>> r = StitchingResult(("a/0", "b/0", "b/1"), (0,), "f1", True, {
        ...     "relative": np.array([[90.0, 80.0, 70.0], [60.0, 88.0, 85.0],
        ...                           [50.0, 84.0, 86.0]])[:, :, None],
        ...     "absolute": np.full((3, 3, 1), 10.0)}, (), {}, 0, 0.0)
        >>> pooled_group(r, "a <-> b", across=lambda n: n[0]).relative_stitched
        65.0
    """
    matrices = _matrices(result)
    names = list(result.names)
    sel = np.array([True if keep is None else bool(keep(n)) for n in names])
    mask = sel[:, None] & sel[None, :] & ~np.eye(len(names), dtype=bool)
    if across is not None:
        fams = np.array([across(n) for n in names])
        mask &= fams[:, None] != fams[None, :]

    def own(method: str) -> float:
        return _mean(np.diag(matrices[method])[sel])

    return PairGroup(
        encoders=label,
        heads="",
        relative_stitched=_mean(matrices["relative"][mask]),
        relative_own=own("relative"),
        absolute_own=own("absolute"),
        absolute_stitched=_mean(matrices["absolute"][mask]),
        translation_stitched=_mean(matrices["translation"][mask]),
        n_cells=int(mask.sum()),
    )


_SCORES = ("relative_stitched", "relative_own", "absolute_own", "absolute_stitched",
           "translation_stitched")  # fmt: skip


def _check_groups(groups: Sequence[PairGroup]) -> tuple[PairGroup, ...]:
    if isinstance(groups, PairGroup) or not isinstance(groups, Sequence):
        raise fail("groups", "a sequence of PairGroup", type(groups).__name__, TypeError)
    bad = sorted({type(g).__name__ for g in groups if not isinstance(g, PairGroup)})
    if bad:
        raise fail(
            "groups", "a sequence of PairGroup", f"items of type {', '.join(bad)}", TypeError
        )
    return tuple(groups)


def merge_groups(groups: Sequence[PairGroup], label: str) -> PairGroup:
    """Pool several groups into one: every score is the mean of the groups' finite scores
    weighted by their ``n_cells`` (so it is the mean over all their stitched cells for the
    stitched scores; NaN when no group has one, or no group is given), and ``n_cells`` is their
    sum.

    Args:
        groups: the groups, e.g. those of :func:`pair_groups` with equal encoder and head
            families (``[g for g in groups if g.encoders == g.heads]``: within a family).
        label: the merged group's name (its ``encoders``; ``heads`` is empty).

    Example:
        >>> a = PairGroup("mlp", "mlp", 80.0, 90.0, 91.0, 10.0, 70.0, 2)
        >>> b = PairGroup("cnn", "cnn", 50.0, 60.0, 61.0, float("nan"), 40.0, 1)
        >>> merged = merge_groups([a, b], "within")
        >>> merged.relative_stitched, merged.relative_own, merged.absolute_stitched, merged.n_cells
        (70.0, 80.0, 10.0, 3)
    """
    groups = _check_groups(groups)
    weights = np.array([g.n_cells for g in groups], dtype=float)

    def pooled(attr: str) -> float:
        values = np.array([getattr(g, attr) for g in groups], dtype=float)
        ok = np.isfinite(values) & (weights > 0)
        return float(np.average(values[ok], weights=weights[ok])) if ok.any() else math.nan

    scores = {attr: pooled(attr) for attr in _SCORES}
    return PairGroup(label, "", **scores, n_cells=int(weights.sum()))


def pair_group_table(groups: Sequence[PairGroup], title: str, note: str = "") -> Table:
    """Groups as a table, one row each: own and stitched scores (1 decimal) and kept fractions
    (3 decimals); a pooled group's empty ``heads`` shows as ``-``.

    Example:
        >>> g = PairGroup("mlp", "cnn", 80.0, 90.0, 91.0, 10.0, 70.0, 4)
        >>> pair_group_table([g], "t").rows
        (('mlp', 'cnn', 90.0, 80.0, 0.889, 91.0, 0.879, 10.0, 70.0, 4),)
    """
    rows = tuple(
        (
            g.encoders,
            g.heads or "-",
            *(rounded(v, 1) for v in (g.relative_own, g.relative_stitched)),
            rounded(g.kept, 3),
            rounded(g.absolute_own, 1),
            rounded(g.kept_vs_absolute, 3),
            *(rounded(v, 1) for v in (g.absolute_stitched, g.translation_stitched)),
            g.n_cells,
        )
        for g in _check_groups(groups)
    )
    columns = ("encoders", "heads", "relative own", "relative stitched", "kept (vs relative)",
               "absolute own", "kept (vs absolute)", "absolute stitched",
               "Procrustes translation", "stitched cells")  # fmt: skip
    return Table(title=title, columns=columns, rows=rows, note=note)


def summary_table(result: StitchingResult, title: str, note: str = "") -> Table:
    """The paper's summary rows (method, stitched or not, mean, std, cells) as a table.

    Example:
        >>> r = StitchingResult(("a", "b"), (0,), "f1", True,
        ...     {"relative": np.array([[90.0, 80.0], [70.0, 88.0]])[:, :, None]}, (), {}, 0, 0.0)
        >>> summary_table(r, "t").rows[1]
        ('relative', 'stitched', 75.0, 5.0, 2, 0)
    """
    if not isinstance(result, StitchingResult):
        raise fail("result", "a StitchingResult", type(result).__name__, TypeError)
    rows = tuple(
        (
            row.method,
            "stitched" if row.stitched else "not stitched",
            rounded(row.mean),
            rounded(row.std),
            row.n_cells,
            row.n_undefined,
        )
        for row in result.summary()
    )
    columns = ("method", "setting", "F1 mean", "F1 std", "cells", "undefined cells")
    return Table(title=title, columns=columns, rows=rows, note=note)


def matrix_table(
    result: StitchingResult,
    method: str,
    title: str,
    digits: int = 1,
    *,
    with_std: bool = False,
    note: str = "",
) -> Table:
    """One method's per-pair mean score (rows: encoder, columns: head) as a table.

    Cells are the mean over seeds rounded to ``digits``, or with ``with_std`` the text
    ``"mean ± std"`` (population std over seeds); an undefined cell is None.

    Example:
        >>> r = StitchingResult(("a", "b"), (0,), "f1", True,
        ...     {"relative": np.array([[90.0, 80.0], [70.0, 88.0]])[:, :, None]}, (), {}, 0, 0.0)
        >>> matrix_table(r, "relative", "t").rows
        (('a', 90.0, 80.0), ('b', 70.0, 88.0))
        >>> matrix_table(r, "relative", "t", with_std=True).rows[0]
        ('a', '90.0 ± 0.0', '80.0 ± 0.0')
    """
    if not isinstance(result, StitchingResult):
        raise fail("result", "a StitchingResult", type(result).__name__, TypeError)
    method = check_choice(method, "method", result.methods)
    matrix = result.pair_mean(method)
    rows: tuple[tuple[Any, ...], ...]
    if with_std:
        std = result.pair_std(method)
        rows = tuple(
            (enc, *(mean_std_text(matrix[i, j], std[i, j], digits) for j in range(len(row))))
            for i, (enc, row) in enumerate(zip(result.names, matrix, strict=True))
        )
    else:
        rows = tuple(
            (enc, *(rounded(float(v), digits) for v in matrix[i]))
            for i, enc in enumerate(result.names)
        )
    return Table(title=title, columns=("encoder \\ head", *result.names), rows=rows, note=note)


def model_stitched_means(result: StitchingResult, method: str) -> dict[str, float]:
    """Per model, the mean stitched score of the cells where it is the encoder or the head.

    Model ``i``'s cells are row ``i`` (its encoder read by the other heads) and column ``i``
    (its head reading the other encoders) of ``result.pair_mean(method)``, the diagonal left
    out: ``2 * (n_models - 1)`` cells. Undefined (NaN) cells are skipped; a model with none
    gets NaN.

    Args:
        result: a grid of ``n_models >= 2`` models.
        method: one of ``result.methods``.

    Returns:
        Model name -> mean, in ``result.names`` order.

    Example:
        >>> r = StitchingResult(("a", "b", "c"), (0,), "f1", True, {"relative": np.array(
        ...     [[90.0, 80.0, 60.0], [70.0, 88.0, 50.0], [40.0, 30.0, 86.0]])[:, :, None]},
        ...     (), {}, 0, 0.0)
        >>> model_stitched_means(r, "relative")  # a: (80 + 60 + 70 + 40) / 4
        {'a': 62.5, 'b': 57.5, 'c': 45.0}
    """
    if not isinstance(result, StitchingResult):
        raise fail("result", "a StitchingResult", type(result).__name__, TypeError)
    method = check_choice(method, "method", result.methods)
    if len(result.names) < 2:
        raise fail("result", "a grid of at least two models", f"{list(result.names)}")
    mean = result.pair_mean(method)
    out = {}
    for i, name in enumerate(result.names):
        cells = np.concatenate([np.delete(mean[i], i), np.delete(mean[:, i], i)])
        cells = cells[~np.isnan(cells)]
        out[name] = float(np.mean(cells)) if cells.size else math.nan
    return out


def model_table(
    result: StitchingResult,
    methods: Sequence[str],
    title: str,
    *,
    labels: Mapping[str, str] | None = None,
    corner: str = "model",
    note: str = "",
    digits: int = 2,
) -> Table:
    """:func:`model_stitched_means` of several methods as a table: one row per model, one
    column per method (headed ``labels[method]``, default the method; the first column headed
    ``corner``), means rounded to ``digits`` (None when undefined).

    Example:
        >>> r = StitchingResult(("a", "b"), (0,), "f1", True, {"relative": np.array(
        ...     [[90.0, 80.0], [70.0, 88.0]])[:, :, None]}, (), {}, 0, 0.0)
        >>> t = model_table(r, ["relative"], "t", labels={"relative": "rel"})
        >>> t.columns, t.rows
        (('model', 'rel'), (('a', 75.0), ('b', 75.0)))
    """
    if isinstance(methods, str) or not isinstance(methods, Sequence):
        raise fail("methods", "a sequence of method names", repr(methods), TypeError)
    if not isinstance(result, StitchingResult):
        raise fail("result", "a StitchingResult", type(result).__name__, TypeError)
    methods = check_names(methods, "methods", result.methods)
    means = [model_stitched_means(result, m) for m in methods]
    rows = tuple((name, *(rounded(m[name], digits) for m in means)) for name in result.names)
    columns = (corner, *((labels or {}).get(m, m) for m in methods))
    return Table(title=title, columns=columns, rows=rows, note=note)
