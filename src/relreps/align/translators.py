"""Which ``relreps.translate`` estimator an alignment fits, by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relreps._validation import check_choice

__all__ = ["TRANSLATORS", "translator_factory"]

#: Names accepted by ``translator=`` in :mod:`relreps.align` (the default is ``"procrustes"``).
TRANSLATORS = ("procrustes", "least-squares", "affine")


def translator_factory(name: str) -> Callable[[], Any]:
    """A function returning a new unfitted translator of the named kind.

    ``"procrustes"``: :class:`relreps.translate.Procrustes` with ``standardize="global"``
    (orthogonal map and global scale between the centred spaces; angles are kept, so a rotated
    copy is recovered exactly; widths may differ); ``"least-squares"``:
    :class:`~relreps.translate.LeastSquares` with a small ridge (1e-3); ``"affine"``:
    :class:`~relreps.translate.Affine` (ridge 1e-3). Both least-squares kinds standardise per
    feature.

    Example:
        >>> translator_factory("procrustes")()
        Procrustes(scale=True, standardize='global', min_scale=1e-06)
    """
    from relreps.translate import Affine, LeastSquares, Procrustes

    name = check_choice(name, "translator", TRANSLATORS)
    if name == "procrustes":
        return lambda: Procrustes(standardize="global")
    if name == "least-squares":
        return lambda: LeastSquares(ridge=1e-3)
    return lambda: Affine(ridge=1e-3)
