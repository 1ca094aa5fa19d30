"""Bootstrapped parallel anchors: from a few seed pairs to a full alignment.

:func:`bootstrap_alignment` grows the seed pairs with :func:`relreps.align.refine.refine`
(relative representations w.r.t. the current anchors while they are few, translated ones after
that; mutual CSLS matches; the most confident kept; refit; repeat). When the result fails its
self-consistency check (too few or too ambiguous seeds), the unpaired candidates of
:mod:`relreps.align.unpaired` are refined *with the seeds kept fixed* and the best-scoring
result is returned (``fallback=True``).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.align.check import AllRowsCheck
from relreps.align.consistency import DEFAULT_THRESHOLD
from relreps.align.fit import check_spaces, check_stability, finish, score_refined
from relreps.align.pairs import check_pairs
from relreps.align.refine import MATCHERS, RefineSettings, refine
from relreps.align.result import Alignment
from relreps.align.stability import DEFAULT_AGREEMENT
from relreps.align.translators import translator_factory
from relreps.align.unpaired import UNPAIRED_METHODS, run_candidate

__all__ = ["bootstrap_alignment"]


def check_settings(settings: RefineSettings | None) -> RefineSettings:
    """Validate (or default) the refinement settings."""
    if settings is None:
        return RefineSettings()
    if not isinstance(settings, RefineSettings):
        raise fail("settings", "a RefineSettings", type(settings).__name__, TypeError)
    for name in ("n_rounds", "sample_size", "max_candidates", "k"):
        check_int(getattr(settings, name), f"settings.{name}", low=1)
    check_int(settings.max_anchors, "settings.max_anchors", low=3)
    check_int(settings.relative_until, "settings.relative_until", low=0)
    check_int(settings.polish_rows, "settings.polish_rows", low=0)
    if 0 < settings.polish_rows < 3:
        raise fail("settings.polish_rows", "0 (off) or at least 3", repr(settings.polish_rows))
    check_float(settings.growth, "settings.growth", low=1.0, low_inclusive=False)
    check_float(settings.min_score, "settings.min_score")
    check_float(settings.tol, "settings.tol", low=0.0, high=1.0)
    check_choice(settings.matcher, "settings.matcher", MATCHERS)
    check_float(settings.ot_reg, "settings.ot_reg", low=0.0, low_inclusive=False)
    return settings


def bootstrap_alignment(
    x: Any,
    y: Any,
    seed_pairs: Any,
    *,
    translator: str = "procrustes",
    settings: RefineSettings | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    fallback: bool = True,
    n_landmarks: int = 500,
    stability: bool = True,
    stability_threshold: float = DEFAULT_AGREEMENT,
    seed: int = 0,
) -> Alignment:
    """Align X to Y from a few known pairs (``m >= 3``) by growing them (module docstring).

    Args:
        x: (n_x, d_x) space X (numpy array or memmap).
        y: (n_y, d_y) space Y; widths may differ.
        seed_pairs: (m, 2) int rows ``(i, j)`` known to be the same item, ``m >= 3``.
        translator: ``"procrustes"`` (default), ``"least-squares"`` or ``"affine"``.
        settings: stopping rules and thresholds (:class:`~relreps.align.RefineSettings`).
        threshold: self-consistency pass mark (:mod:`relreps.align.consistency`).
        fallback: when the seeded growth fails its check, also try the unpaired candidates
            with the seeds fixed and keep the best.
        n_landmarks: landmarks of the Gromov-Wasserstein candidates of the fallback.
        stability: a result that passes its structural check is run again on an independent
            subsample and passes only when the two maps agree
            (:mod:`relreps.align.stability`; about one more run of the winning method).
        stability_threshold: pass mark of that agreement, in [0, 1].
        seed: seed of every random choice (samples of rows).

    Returns:
        :class:`~relreps.align.Alignment`: ``method="bootstrap"`` (or
        ``"bootstrap+<candidate>"`` from the fallback), the pairs with their CSLS
        confidences, the translator (None when even the best attempt failed).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(600, 8)) * np.linspace(2.0, 0.5, 8)
        >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
        >>> y = 2.0 * x @ q + 0.05 * rng.normal(size=(600, 8))
        >>> seeds = np.stack([np.arange(10), np.arange(10)], axis=1)
        >>> a = bootstrap_alignment(x, y, seeds)
        >>> a.status, bool(np.mean(a.pairs[:, 0] == a.pairs[:, 1]) > 0.95)
        ('ok', True)
    """
    start = time.perf_counter()
    x, y = check_spaces(x, y)
    seeds = check_pairs(seed_pairs, x.shape[0], y.shape[0], name="seed_pairs", min_pairs=3)
    settings = check_settings(settings)
    threshold = check_float(threshold, "threshold", low=-1.0, high=1.0)
    seed = check_int(seed, "seed", low=0)
    if not isinstance(fallback, bool):
        raise fail("fallback", "a bool", repr(fallback), TypeError)
    if not isinstance(stability, bool):
        raise fail("stability", "a bool", repr(stability), TypeError)
    stability_threshold = check_float(stability_threshold, "stability_threshold", low=0.0,
                                      high=1.0)  # fmt: skip
    make = translator_factory(translator)
    refined = refine(x, y, seeds, np.zeros((0, 2), dtype=np.int64), make_translator=make,
                     settings=settings, seed=seed)  # fmt: skip
    checker = AllRowsCheck(x, y, threshold=threshold, seed=seed)
    refined, check = score_refined(checker, refined, make_translator=make,
                                   polish_rows=settings.polish_rows, seed=seed)  # fmt: skip
    tried: dict[str, Any] = {
        "bootstrap": {"score": check.score, "seconds": round(time.perf_counter() - start, 3)}
    }
    method, best = "bootstrap", (refined, check)
    if fallback and not check.passed:
        for candidate in UNPAIRED_METHODS:
            other, seconds = run_candidate(
                x, y, candidate, seeds, make_translator=make, n_landmarks=n_landmarks,
                settings=settings, seed=seed,
            )  # fmt: skip
            other, other_check = score_refined(
                checker, other, make_translator=make, polish_rows=settings.polish_rows, seed=seed
            )
            tried[f"bootstrap+{candidate}"] = {
                "score": other_check.score,
                "seconds": round(seconds, 3),
            }
            if other_check.score > best[1].score:
                method, best = f"bootstrap+{candidate}", (other, other_check)
            if other_check.passed:
                break
    if stability and best[1].passed:
        winner = method

        def rerun(xs: Any, ys: Any, fixed: np.ndarray, restart_seed: int) -> Any:
            if winner == "bootstrap":
                none = np.zeros((0, 2), dtype=np.int64)
                return refine(xs, ys, fixed, none, make_translator=make, settings=settings,
                              seed=restart_seed)  # fmt: skip
            return run_candidate(xs, ys, winner.split("+", 1)[1], fixed, make_translator=make,
                                 n_landmarks=n_landmarks, settings=settings,
                                 seed=restart_seed)[0]  # fmt: skip

        best = (best[0], check_stability(checker, best[0], best[1], rerun, method=winner,
                                         make_translator=make, polish_rows=settings.polish_rows,
                                         threshold=stability_threshold, seed=seed))  # fmt: skip
    diagnostics = {
        "candidates": tried,
        "n_seed_pairs": int(seeds.shape[0]),
        "seconds": round(time.perf_counter() - start, 3),
    }
    options = {"translator": translator, "threshold": threshold, "fallback": fallback,
               "n_landmarks": n_landmarks, "stability": stability,
               "stability_threshold": stability_threshold, "seed": seed,
               "refine": asdict(settings)}  # fmt: skip
    return finish(x, y, best[0], method, consistency=best[1], diagnostics=diagnostics,
                  settings=options)  # fmt: skip
