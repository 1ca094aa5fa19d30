"""The result of an alignment: the pairs it found, how sure it is, and the fitted map."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relreps.align.consistency import Consistency
from relreps.align.refine import Round
from relreps.errors import RelrepsError

__all__ = ["Alignment", "AlignmentFailedError"]


class AlignmentFailedError(RelrepsError, ValueError):
    """An alignment that failed its self-consistency check was asked to translate."""


@dataclass(frozen=True, eq=False)
class Alignment:
    """A map from space X to space Y and the evidence behind it.

    Attributes:
        method: how it was obtained (``"pairs"``, ``"bootstrap"``, ``"unpaired:gw-norm"``, ...).
        status: ``"ok"`` or ``"failed"`` (self-consistency below its threshold).
        translator: the fitted ``relreps.translate`` estimator; None when ``status`` is
            ``"failed"`` (no silent wrong map).
        pairs: (n_pairs, 2) int64 pairs ``(row of X, row of Y)`` the translator was fitted on.
        confidences: (n_pairs,) float64 CSLS score of each found pair, NaN for given pairs.
        given: (n_pairs,) bool, True for pairs that were given (known or seed pairs).
        consistency: the self-consistency check (None when every pair was given).
        rounds: what each refinement round did.
        n_x, n_y: rows of X and Y.
        d_x, d_y: widths of X and Y.
        diagnostics: other measured facts (candidates tried and their scores, times).
        settings: the options the alignment ran with (thresholds, stopping rules, seed).
    """

    method: str
    status: str
    translator: Any
    pairs: np.ndarray
    confidences: np.ndarray
    given: np.ndarray
    consistency: Consistency | None
    rounds: tuple[Round, ...]
    n_x: int
    n_y: int
    d_x: int
    d_y: int
    diagnostics: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the alignment passed its check and holds a translator."""
        return self.status == "ok" and self.translator is not None

    def transform(self, x: Any) -> Any:
        """Map X vectors into Y: ``translator.transform(x)``.

        Args:
            x: (n_samples, d_x) vectors of X.

        Returns:
            (n_samples, d_y) vectors in Y.

        Raises:
            AlignmentFailedError: the alignment failed (there is no map to apply).
        """
        if not self.ok:
            raise AlignmentFailedError(
                f"This alignment ({self.method}) failed its self-consistency check "
                f"({self.failure_reason()}): it "
                "holds no map. Give (more) seed pairs, or check that the spaces embed the same "
                "kind of items."
            )
        return self.translator.transform(x)

    def failure_reason(self) -> str:
        """Why the alignment failed, in one phrase (the structural score or the restart's
        disagreement, with its pass mark); ``""`` when it did not fail.

        Example:
            >>> import numpy as np
            >>> from relreps.align import align_pairs
            >>> x = np.random.default_rng(0).normal(size=(20, 3))
            >>> align_pairs(x, x, np.c_[np.arange(20), np.arange(20)]).failure_reason()
            ''
        """
        if self.ok:
            return ""
        check = self.consistency
        stable = None if check is None else check.stability
        if stable is not None and not stable.passed:
            return (f"restart agreement {stable.agreement:.3f}, null "
                    f"{stable.null_agreement:.3f}; pass mark {stable.threshold}: a rerun on "
                    "another subsample gave another map")  # fmt: skip
        score = check.score if check is not None else float("nan")
        null = f" (null {check.null_score:.3f})" if check is not None else ""
        return f"score {score:.3f}{null} below {check.threshold if check else '?'}"

    def summary(self) -> str:
        """One line: method, status, pairs, score."""
        score = "-" if self.consistency is None else f"{self.consistency.score:.3f}"
        stable = None if self.consistency is None else self.consistency.stability
        restart = "" if stable is None else f", restart agreement {stable.agreement:.3f}"
        return (
            f"{self.method}: {self.status}, {self.pairs.shape[0]} pairs "
            f"({int(self.given.sum())} given), self-consistency {score}{restart}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the pairs themselves are not included: see ``save``)."""
        found = self.confidences[~self.given]
        return {
            "method": self.method,
            "status": self.status,
            "n_pairs": int(self.pairs.shape[0]),
            "n_given": int(self.given.sum()),
            "mean_confidence": float(np.mean(found)) if found.size else None,
            "consistency": None if self.consistency is None else self.consistency.to_dict(),
            "rounds": [r.to_dict() for r in self.rounds],
            "shapes": {"x": [self.n_x, self.d_x], "y": [self.n_y, self.d_y]},
            "translator": None if self.translator is None else repr(self.translator),
            "diagnostics": self.diagnostics,
            "settings": self.settings,
        }
