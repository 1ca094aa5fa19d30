"""Unpaired alignment (no known pairs): guess initial pairs, refine them, check the result.

Candidates for the initial guess (each then refined by :func:`relreps.align.refine.refine` and
scored by :func:`relreps.align.self_consistency`):

- ``"gw-norm"``: Gromov-Wasserstein matching (POT, entropic) of ``n_landmarks`` *landmarks* per
  space, the rows farthest from their space's mean. Gromov-Wasserstein compares the two sets'
  internal distance matrices only, so it needs no common coordinates, but it can only pair items
  that are in both sets: random samples of two large spaces share few items, while a ranking
  that an isometry preserves (distance to the mean) picks largely the same items on both sides
  (97% of the top 500 for two Word2Vec seeds).
- ``"gw-density"``: the same with the rows whose 10 nearest neighbours are closest (local density,
  computed on a sample of ``density_sample`` rows): normalised sentence encoders have no
  informative norm, and density keeps 61% of the top 500 in common for MiniLM-L6 vs L3.
- ``"pca"``: principal axes with their signs fixed by the third moment (skewness made positive),
  matched coordinate by coordinate; works for a rotated copy with distinct variances, not for two
  models (measured in docs/alignment.md).

``method="auto"`` runs the candidates in this order and keeps the best-scoring one, stopping
early once one scores at least ``accept``. The winner is reported as failed when its score is
below ``threshold``: then the returned :class:`~relreps.align.Alignment` holds no translator.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.align.matching import Matches, mutual_matches
from relreps.align.refine import RefineSettings, refine

__all__ = ["UNPAIRED_METHODS", "gromov_pairs", "landmarks", "pca_pairs"]

#: The initial-guess candidates, in the order ``method="auto"`` tries them.
UNPAIRED_METHODS = ("gw-norm", "gw-density", "pca")
_EPS = 1e-12


def _chunks(n: int, size: int = 65536) -> range:
    return range(0, n, size)


def _mean(v: Any) -> np.ndarray:
    total = np.zeros(v.shape[1], dtype=np.float64)
    for s in _chunks(v.shape[0]):
        total += np.asarray(v[s : s + 65536], dtype=np.float64).sum(axis=0)
    return total / v.shape[0]


def landmarks(
    v: Any, n: int, *, rule: str = "norm", density_sample: int = 20000, seed: int = 0
) -> np.ndarray:
    """Rows of ``v`` chosen by an isometry-invariant ranking (module docstring).

    Args:
        v: (n_samples, n_features) space.
        n: landmarks wanted, in ``[1, n_samples]``.
        rule: ``"norm"`` (farthest from the mean) or ``"density"`` (closest 10 neighbours).
        density_sample: ``"density"`` ranks a seeded random sample of at most this many rows.
        seed: seed of that sample.

    Returns:
        (n,) int64 row indices, best first (ties: lower row first).

    Example:
        >>> import numpy as np
        >>> v = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
        >>> landmarks(v, 2).tolist()
        [1, 3]
    """
    from relreps.metrics import knn

    n_rows = int(v.shape[0])
    n = check_int(n, "n", low=1, high=n_rows, hint="n_samples")
    rule = check_choice(rule, "rule", ("norm", "density"))
    mean = _mean(v)
    if rule == "norm":
        norms = np.concatenate(
            [np.linalg.norm(np.asarray(v[s : s + 65536], dtype=np.float64) - mean, axis=1)
             for s in _chunks(n_rows)]
        )  # fmt: skip
        return np.argsort(-norms, kind="stable")[:n].astype(np.int64)
    size = min(n_rows, check_int(density_sample, "density_sample", low=n))
    rows = (
        np.arange(n_rows)
        if size == n_rows
        else np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))
    )
    c = np.asarray(v[rows], dtype=np.float64) - mean
    k = min(11, size)
    dens = (
        np.asarray(knn(c, c, k, metric="cosine").scores)[:, 1:].mean(axis=1)
        if k > 1
        else np.zeros(size)
    )
    return rows[np.argsort(-dens, kind="stable")[:n]].astype(np.int64)


def _cosine_distances(v: np.ndarray) -> np.ndarray:
    c = v - v.mean(axis=0)
    u = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), _EPS)
    return np.clip(1.0 - u @ u.T, 0.0, 2.0)


def gromov_pairs(
    x: Any,
    y: Any,
    *,
    n_landmarks: int = 500,
    rule: str = "norm",
    epsilon: float = 5e-3,
    max_iter: int = 200,
    seed: int = 0,
) -> Matches:
    """Initial pairs from entropic Gromov-Wasserstein matching of landmarks (POT).

    Args:
        x: (n_x, d_x) space X.
        y: (n_y, d_y) space Y (the widths may differ).
        n_landmarks: landmarks per space (the plan is ``n_landmarks x n_landmarks``).
        rule: landmark ranking, see :func:`landmarks`.
        epsilon: entropic regularisation of the plan (> 0).
        max_iter: most outer iterations of POT's solver.
        seed: seed of the density sample.

    Returns:
        :class:`~relreps.align.Matches` in global row indices: the mutual argmax pairs of the
        plan, scored by the plan's mass times ``n_landmarks``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(300, 5)) * np.arange(1, 6)
        >>> q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        >>> m = gromov_pairs(x, x @ q, n_landmarks=60)
        >>> bool(np.mean(m.x_rows == m.y_rows) > 0.9)
        True
    """
    from relreps.align.matching import _pot

    ot = _pot()
    n = min(int(x.shape[0]), int(y.shape[0]), check_int(n_landmarks, "n_landmarks", low=3))
    epsilon = check_float(epsilon, "epsilon", low=0.0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", low=1)
    lx = landmarks(x, n, rule=rule, seed=seed)
    ly = landmarks(y, n, rule=rule, seed=seed + 1)
    cx = _cosine_distances(np.asarray(x[lx], dtype=np.float64))
    cy = _cosine_distances(np.asarray(y[ly], dtype=np.float64))
    p = np.full(n, 1.0 / n)
    with warnings.catch_warnings():  # an unconverged inner Sinkhorn still gives a usable guess
        warnings.simplefilter("ignore", UserWarning)
        plan = ot.gromov.entropic_gromov_wasserstein(
            cx, cy, p, p, "square_loss", epsilon=epsilon, max_iter=max_iter
        )
    plan = np.asarray(plan, dtype=np.float64)
    best, back = plan.argmax(axis=1), plan.argmax(axis=0)
    rows = np.flatnonzero(back[best] == np.arange(n))
    if rows.size < 3:  # a flat plan (nothing in common): keep each column's heaviest row
        cols = np.arange(n)
        order = np.lexsort((cols, -plan[back, cols]))
        _, first = np.unique(back[order], return_index=True)
        kept = cols[order][first]
        rows = back[kept]
        best[rows] = kept
    scores = plan[rows, best[rows]] * n
    order = np.lexsort((rows, -scores))
    rows = rows[order]
    return Matches(lx[rows], ly[best[rows]], scores[order], np.zeros(rows.size), int(x.shape[0]),
                   int(y.shape[0]), "gw")  # fmt: skip


def _pca_coordinates(v: np.ndarray, n_components: int) -> np.ndarray:
    c = v - v.mean(axis=0)
    values, vectors = np.linalg.eigh(c.T @ c / max(1, c.shape[0] - 1))
    order = np.argsort(values)[::-1][:n_components]
    coords = c @ vectors[:, order]
    signs = np.sign(np.mean(coords**3, axis=0))
    signs[signs == 0] = 1.0
    return coords * signs / np.sqrt(max(float(values[order].sum()), _EPS))


def pca_pairs(
    x: Any, y: Any, *, n_components: int = 30, sample_size: int = 5000, seed: int = 0
) -> Matches:
    """Initial pairs from sign-fixed principal coordinates (module docstring).

    Args:
        x: (n_x, d_x) space X.
        y: (n_y, d_y) space Y.
        n_components: leading axes used, clipped to ``min(d_x, d_y)``.
        sample_size: rows per side (seeded random samples) that are matched.
        seed: seed of the samples.

    Returns:
        :class:`~relreps.align.Matches` (mutual CSLS matches) in global row indices.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.gamma(2.0, size=(400, 4)) * np.array([4.0, 3.0, 2.0, 1.0])
        >>> m = pca_pairs(x, x[:, ::-1])
        >>> bool(np.mean(m.x_rows == m.y_rows) > 0.9)
        True
    """
    n_components = min(
        check_int(n_components, "n_components", low=1), int(x.shape[1]), int(y.shape[1])
    )
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    sample_size = check_int(sample_size, "sample_size", low=2)
    sx = np.sort(rng.permutation(int(x.shape[0]))[:sample_size])
    sy = np.sort(rng.permutation(int(y.shape[0]))[:sample_size])
    found = mutual_matches(
        _pca_coordinates(np.asarray(x[sx], dtype=np.float64), n_components),
        _pca_coordinates(np.asarray(y[sy], dtype=np.float64), n_components),
    )
    return Matches(sx[found.x_rows], sy[found.y_rows], found.scores, found.margins,
                   int(x.shape[0]), int(y.shape[0]), "pca")  # fmt: skip


def initial_pairs(
    x: Any, y: Any, method: str, *, n_landmarks: int, settings: RefineSettings, seed: int
) -> Matches:
    """The initial guess of one candidate ``method`` (one of :data:`UNPAIRED_METHODS`)."""
    method = check_choice(method, "method", UNPAIRED_METHODS)
    if method == "pca":
        found = pca_pairs(x, y, sample_size=settings.sample_size, seed=seed)
        return found.take(np.arange(min(len(found), settings.max_anchors)))
    rule = "norm" if method == "gw-norm" else "density"
    return gromov_pairs(x, y, n_landmarks=n_landmarks, rule=rule, seed=seed)


def run_candidate(
    x: Any,
    y: Any,
    method: str,
    fixed: np.ndarray,
    *,
    make_translator: Any,
    n_landmarks: int,
    settings: RefineSettings,
    seed: int,
) -> tuple[Any, float]:
    """Guess, refine: ``(Refined, seconds)`` for one candidate; ``fixed`` pairs are kept."""
    start = time.perf_counter()
    guess = initial_pairs(x, y, method, n_landmarks=n_landmarks, settings=settings, seed=seed)
    keep = ~np.isin(guess.x_rows, fixed[:, 0]) & ~np.isin(guess.y_rows, fixed[:, 1])
    initial = guess.pairs[keep]
    # The guesses are many and noisy: translate from the first round on.
    refined = refine(x, y, fixed, initial, make_translator=make_translator,
                     settings=replace(settings, relative_until=0), seed=seed)  # fmt: skip
    return refined, time.perf_counter() - start


def align_unpaired(
    x: Any,
    y: Any,
    *,
    method: str = "auto",
    translator: str = "procrustes",
    settings: RefineSettings | None = None,
    threshold: float | None = None,
    accept: float = 0.8,
    n_landmarks: int = 500,
    stability: bool = True,
    stability_threshold: float | None = None,
    seed: int = 0,
) -> Any:
    """Align X to Y with no known pairs (module docstring).

    Args:
        x: (n_x, d_x) space X (numpy array or memmap).
        y: (n_y, d_y) space Y; widths may differ.
        method: ``"auto"`` or one of :data:`UNPAIRED_METHODS`.
        translator: ``"procrustes"`` (default), ``"least-squares"`` or ``"affine"``.
        settings: stopping rules and thresholds of the refinement.
        threshold: self-consistency pass mark (default
            :data:`relreps.align.consistency.DEFAULT_THRESHOLD`).
        accept: ``"auto"`` stops trying candidates once one scores at least this.
        n_landmarks: landmarks of the Gromov-Wasserstein candidates.
        stability: a winner that passes its structural check is run again (the same
            candidate) on an independent subsample and passes only when the two maps agree
            (:mod:`relreps.align.stability`; about one more run of that candidate).
        stability_threshold: pass mark of that agreement, in [0, 1] (default
            :data:`relreps.align.stability.DEFAULT_AGREEMENT`).
        seed: seed of every random choice.

    Returns:
        :class:`~relreps.align.Alignment` (``method="unpaired:<candidate>"``); its status is
        ``"failed"`` and it holds no translator when the best score is below ``threshold``.
        ``diagnostics["candidates"]`` lists each candidate's score and time.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.gamma(2.0, size=(800, 6)) * np.linspace(3.0, 1.0, 6)
        >>> q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
        >>> a = align_unpaired(x, x @ q + 0.01 * rng.normal(size=(800, 6)), n_landmarks=100)
        >>> a.ok, bool(np.mean(a.pairs[:, 0] == a.pairs[:, 1]) > 0.95)
        (True, True)
        >>> u, v = rng.normal(size=(800, 6)), rng.normal(size=(800, 6))
        >>> b = align_unpaired(u, v, n_landmarks=100)
        >>> b.status, b.translator is None
        ('failed', True)
    """
    from dataclasses import asdict

    from relreps.align.bootstrap import check_settings
    from relreps.align.check import AllRowsCheck
    from relreps.align.consistency import DEFAULT_THRESHOLD
    from relreps.align.fit import check_spaces, check_stability, finish, score_refined
    from relreps.align.stability import DEFAULT_AGREEMENT
    from relreps.align.translators import translator_factory

    start = time.perf_counter()
    x, y = check_spaces(x, y)
    method = check_choice(method, "method", ("auto", *UNPAIRED_METHODS))
    settings = check_settings(settings)
    threshold = check_float(
        DEFAULT_THRESHOLD if threshold is None else threshold, "threshold", low=-1.0, high=1.0
    )
    accept = check_float(accept, "accept", low=-1.0, high=1.0)
    n_landmarks = check_int(n_landmarks, "n_landmarks", low=3)
    if not isinstance(stability, bool):
        raise fail("stability", "a bool", repr(stability), TypeError)
    stability_threshold = check_float(
        DEFAULT_AGREEMENT if stability_threshold is None else stability_threshold,
        "stability_threshold", low=0.0, high=1.0,
    )  # fmt: skip
    seed = check_int(seed, "seed", low=0)
    make = translator_factory(translator)
    no_pairs = np.zeros((0, 2), dtype=np.int64)
    candidates = UNPAIRED_METHODS if method == "auto" else (method,)
    checker = AllRowsCheck(x, y, threshold=threshold, seed=seed)
    tried: dict[str, Any] = {}
    best: tuple[str, Any, Any] | None = None
    for candidate in candidates:
        refined, seconds = run_candidate(
            x, y, candidate, no_pairs, make_translator=make, n_landmarks=n_landmarks,
            settings=settings, seed=seed,
        )  # fmt: skip
        refined, check = score_refined(checker, refined, make_translator=make,
                                       polish_rows=settings.polish_rows, seed=seed)  # fmt: skip
        tried[candidate] = {"score": round(check.score, 4), "seconds": round(seconds, 3),
                            "rounds": len(refined.rounds)}  # fmt: skip
        if best is None or check.score > best[2].score:
            best = (candidate, refined, check)
        if check.score >= accept:
            break
    if best is None:  # pragma: no cover - candidates is never empty
        raise RuntimeError("no unpaired candidate ran")
    if stability and best[2].passed:
        winner = best[0]

        def rerun(xs: Any, ys: Any, fixed: np.ndarray, restart_seed: int) -> Any:
            return run_candidate(xs, ys, winner, fixed, make_translator=make,
                                 n_landmarks=n_landmarks, settings=settings,
                                 seed=restart_seed)[0]  # fmt: skip

        best = (winner, best[1], check_stability(
            checker, best[1], best[2], rerun, method=f"unpaired:{winner}", make_translator=make,
            polish_rows=settings.polish_rows, threshold=stability_threshold, seed=seed,
        ))  # fmt: skip
    diagnostics = {"candidates": tried, "seconds": round(time.perf_counter() - start, 3)}
    options = {"method": method, "translator": translator, "threshold": threshold,
               "accept": accept, "n_landmarks": n_landmarks, "stability": stability,
               "stability_threshold": stability_threshold, "seed": seed,
               "refine": asdict(settings)}  # fmt: skip
    return finish(x, y, best[1], f"unpaired:{best[0]}", consistency=best[2],
                  diagnostics=diagnostics, settings=options)  # fmt: skip
