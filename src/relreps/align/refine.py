"""The refinement loop shared by bootstrapped and unpaired alignment.

Start from anchor pairs (``fixed`` ones that are known to be right and ``initial`` ones that are
only guesses), then repeat, for at most ``n_rounds`` rounds:

1. **Represent** a sample of X rows and a sample of Y rows in one common space:

   - ``"relative"`` while there are fewer anchors than ``relative_until``: cosine similarities
     to the current anchors (:func:`relreps.relative_projection`, each side centred on its own
     sample mean), each column standardised over the sample;
   - ``"translated"`` once there are enough: the X rows mapped into Y by a translator fitted
     on the current anchors (:mod:`relreps.translate`), both sides centred on the Y sample mean.

2. **Match** the two samples by mutual CSLS nearest neighbours
   (:func:`relreps.align.mutual_matches`, ``matcher="csls"``) or by the mutual argmax of an
   entropic optimal-transport plan (:func:`relreps.align.ot_matches`, ``matcher="ot"``; the
   plan is dense, so both samples are then capped at :data:`OT_MAX_ROWS` rows); drop matches
   whose score (CSLS, or plan mass for ``"ot"``) is below ``min_score`` or that reuse a row of
   a fixed pair.
3. **Keep** the most confident matches: at most ``ceil(growth * n_anchors)`` anchors in all
   (fixed ones always kept) and never more than ``max_anchors``.
4. **Stop** when the anchor set is at its cap (it did not grow) and less than ``tol`` of the
   kept matches are new since the previous round, or after ``n_rounds`` rounds.

The samples (``sample_size`` X rows, ``max_candidates`` Y rows) are drawn once from ``seed``, so
a run is deterministic; no step builds an exact matrix over all rows of X and Y. The final check
and polish (:mod:`relreps.align.check`) search samples of X against all rows of Y, in blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from relreps.align.matching import Matches, mutual_matches, ot_matches

__all__ = ["MATCHERS", "OT_MAX_ROWS", "RefineSettings", "Refined", "Round", "refine"]

#: The matchers of step 2.
MATCHERS = ("csls", "ot")
#: Rows per side matched by ``matcher="ot"`` (its plan is a dense matrix).
OT_MAX_ROWS = 3000

_EPS = 1e-12


@dataclass(frozen=True)
class Round:
    """What one refinement round did.

    Attributes:
        index: round number, from 0.
        representation: ``"relative"`` or ``"translated"``.
        n_anchors: anchor pairs the representation was built from.
        n_matches: mutual matches found between the samples.
        n_kept: anchor pairs kept for the next round (fixed ones included).
        mean_score: mean match score of the kept matches (NaN when none).
        changed: share of kept matches that were not anchors in the previous round.
    """

    index: int
    representation: str
    n_anchors: int
    n_matches: int
    n_kept: int
    mean_score: float
    changed: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True)
class RefineSettings:
    """Stopping rules and thresholds of :func:`refine` (module docstring).

    Attributes:
        n_rounds: most rounds (>= 1).
        growth: the anchor set grows at most by this factor per round (> 1).
        max_anchors: cap on anchor pairs (>= 3).
        sample_size: X rows matched per round.
        max_candidates: Y rows matched per round.
        k: CSLS neighbourhood.
        min_score: matches with a lower score are never kept.
        tol: stop when less than this share of kept matches changed (at the cap).
        relative_until: use relative representations below this many anchors, translated ones
            from it on.
        matcher: ``"csls"`` (mutual CSLS nearest neighbours) or ``"ot"`` (optimal transport).
        ot_reg: entropic regularisation of the ``"ot"`` matcher.
        polish_rows: after the rounds, a map that passes its check is refitted on the mutual
            matches of this many X rows searched against ALL rows of Y
            (:func:`relreps.align.fit.polish_refined`); 0 turns it off.
    """

    n_rounds: int = 10
    growth: float = 2.0
    max_anchors: int = 2000
    sample_size: int = 5000
    max_candidates: int = 20000
    k: int = 10
    min_score: float = 0.0
    tol: float = 0.05
    relative_until: int = 100
    matcher: str = "csls"
    ot_reg: float = 0.02
    polish_rows: int = 5000

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Refined:
    """Result of :func:`refine`.

    Attributes:
        pairs: (n_anchors, 2) int64 final anchor pairs (fixed ones first).
        scores: (n_anchors,) float64 match score of each pair (NaN for fixed pairs).
        fixed: (n_anchors,) bool, True for the fixed (given) pairs.
        rounds: what each round did.
        translator: the translator fitted on ``pairs``.
        matches: the last round's mutual matches, in global row indices.
    """

    pairs: np.ndarray
    scores: np.ndarray
    fixed: np.ndarray
    rounds: tuple[Round, ...]
    translator: Any
    matches: Matches


def _standardised_columns(r: np.ndarray) -> np.ndarray:
    r = r - r.mean(axis=0, keepdims=True)
    return r / (r.std(axis=0, keepdims=True) + _EPS)


def _relative(v: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    from relreps.projection import relative_projection

    center = v.mean(axis=0)
    rel = relative_projection(v, anchors, center=center)
    return _standardised_columns(np.asarray(rel))


def _represent(
    x: np.ndarray,
    y: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    anchors: np.ndarray,
    make_translator: Callable[[], Any],
    relative: bool,
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.asarray(x[sx], dtype=np.float64), np.asarray(y[sy], dtype=np.float64)
    if relative:
        ax = np.asarray(x[anchors[:, 0]], dtype=np.float64)
        ay = np.asarray(y[anchors[:, 1]], dtype=np.float64)
        return _relative(xs, ax), _relative(ys, ay)
    translator = make_translator().fit(
        np.asarray(x[anchors[:, 0]], dtype=np.float64),
        np.asarray(y[anchors[:, 1]], dtype=np.float64),
    )
    mean = ys.mean(axis=0, keepdims=True)
    return np.asarray(translator.transform(xs)) - mean, ys - mean


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if size >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


def _samples(
    n_x: int, n_y: int, settings: RefineSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The X rows and the Y rows matched in every round (X drawn first; capped for ``"ot"``)."""
    ot = settings.matcher == "ot"
    sx = _sample(n_x, min(settings.sample_size, OT_MAX_ROWS) if ot else settings.sample_size, rng)
    sy = _sample(
        n_y, min(settings.max_candidates, OT_MAX_ROWS) if ot else settings.max_candidates, rng
    )
    return sx, sy


def _match(a: np.ndarray, b: np.ndarray, settings: RefineSettings) -> Matches:
    """Step 2's matches between the represented samples (sample-local row indices)."""
    if settings.matcher == "ot":
        return ot_matches(a, b, reg=settings.ot_reg, max_rows=OT_MAX_ROWS)
    return mutual_matches(a, b, k=settings.k)


def refine(
    x: Any,
    y: Any,
    fixed: np.ndarray,
    initial: np.ndarray,
    *,
    make_translator: Callable[[], Any],
    settings: RefineSettings,
    seed: int,
) -> Refined:
    """Grow and refine anchor pairs between X and Y (module docstring).

    Args:
        x: (n_x, d_x) validated array (numpy or memmap).
        y: (n_y, d_y) validated array.
        fixed: (n_fixed, 2) int64 pairs that are known (kept in every round).
        initial: (n_initial, 2) int64 guessed pairs (replaced by matches after round 0).
        make_translator: a factory of unfitted translators (``relreps.translate`` estimators).
        settings: the stopping rules and thresholds.
        seed: seed of the row samples.

    Returns:
        :class:`Refined`.
    """
    if np.asarray(fixed).size + np.asarray(initial).size < 6:
        raise ValueError(
            "Expected at least 3 initial or fixed pairs to start the refinement from, but got "
            f"{(np.asarray(fixed).size + np.asarray(initial).size) // 2}."
        )
    rng = np.random.default_rng(seed)
    n_x, n_y = int(x.shape[0]), int(y.shape[0])
    sx, sy = _samples(n_x, n_y, settings, rng)
    fixed = np.asarray(fixed, dtype=np.int64).reshape(-1, 2)
    anchors = np.concatenate([fixed, np.asarray(initial, dtype=np.int64).reshape(-1, 2)])
    kept_scores = np.full(anchors.shape[0] - fixed.shape[0], np.nan)
    previous = {tuple(p) for p in anchors[fixed.shape[0] :].tolist()}
    used_x, used_y = set(fixed[:, 0].tolist()), set(fixed[:, 1].tolist())
    rounds: list[Round] = []
    last = Matches(*(np.zeros(0, dtype=np.int64),) * 2, *(np.zeros(0),) * 2, n_x, n_y, "csls")
    for index in range(settings.n_rounds):
        relative = anchors.shape[0] < settings.relative_until
        a, b = _represent(x, y, sx, sy, anchors, make_translator, relative)
        found = _match(a, b, settings)
        gx, gy = sx[found.x_rows], sy[found.y_rows]
        last = Matches(gx, gy, found.scores, found.margins, n_x, n_y, found.method)
        ok = found.scores >= settings.min_score
        if used_x:
            ok &= ~np.isin(gx, list(used_x)) & ~np.isin(gy, list(used_y))
        cap = min(settings.max_anchors, math.ceil(settings.growth * anchors.shape[0]))
        room = max(0, cap - fixed.shape[0])
        chosen = np.flatnonzero(ok)[:room]
        if chosen.size + fixed.shape[0] < 3:  # too few to refit: keep the current anchors
            rounds.append(
                Round(
                    index,
                    "relative" if relative else "translated",
                    int(anchors.shape[0]),
                    len(found),
                    int(anchors.shape[0]),
                    float("nan"),
                    0.0,
                )
            )
            break
        new_pairs = np.stack([gx[chosen], gy[chosen]], axis=1)
        current = {tuple(p) for p in new_pairs.tolist()}
        changed = 1.0 - len(current & previous) / max(1, len(current))
        grew = new_pairs.shape[0] + fixed.shape[0] > anchors.shape[0]
        rounds.append(
            Round(
                index,
                "relative" if relative else "translated",
                int(anchors.shape[0]),
                len(found),
                int(new_pairs.shape[0] + fixed.shape[0]),
                float(np.mean(found.scores[chosen])) if chosen.size else float("nan"),
                float(changed),
            )
        )
        anchors = np.concatenate([fixed, new_pairs])
        kept_scores = found.scores[chosen]
        previous = current
        if not grew and changed < settings.tol and not relative:
            break
    translator = make_translator().fit(
        np.asarray(x[anchors[:, 0]], dtype=np.float64),
        np.asarray(y[anchors[:, 1]], dtype=np.float64),
    )
    scores = np.concatenate([np.full(fixed.shape[0], np.nan), kept_scores])
    is_fixed = np.arange(anchors.shape[0]) < fixed.shape[0]
    return Refined(anchors, scores, is_fixed, tuple(rounds), translator, last)
