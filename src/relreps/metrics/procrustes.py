"""Orthogonal Procrustes distance between two paired spaces.

Both spaces are centered (translation) and scaled to unit Frobenius norm (scale); the distance is
the residual of the best orthogonal alignment, ``min_Q ||a - b Q||_F`` over orthogonal ``Q``:

    d(a, b) = sqrt(2 - 2 * ||a^T b||_*)        (||.||_* = nuclear norm, sum of singular values)

``||a^T b||_*`` lies in [0, 1], so the distance lies in [0, sqrt(2)]; it is 0 exactly when the
spaces are equal up to rotation/reflection, translation and global scale, and it is a metric
(Williams et al. 2021). ``kind="angular"`` returns ``arccos(||a^T b||_*)`` in [0, pi/2] instead.
Different widths are handled as if the narrower space were zero-padded (``a^T b`` is then
rectangular; padding adds no singular value).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from relreps._array import Array, namespace, to_numpy
from relreps._validation import check_choice, check_matrix, check_paired
from relreps.metrics.cka import feature_grams

__all__ = ["procrustes_distance"]


def procrustes_distance(
    a: Array, b: Array, *, kind: Literal["euclidean", "angular"] = "euclidean"
) -> float:
    """Orthogonal Procrustes distance after centering and normalisation.

    Args:
        a: (n_samples, d_a) first space (numpy, torch or any array-API array).
        b: (n_samples, d_b) second space; row i of both is sample i (dims may differ).
        kind: ``"euclidean"`` (``sqrt(2 - 2 ||a^T b||_*)``, in [0, sqrt 2]) or ``"angular"``
            (``arccos ||a^T b||_*``, in [0, pi/2]).

    Returns:
        Distance; 0 for spaces equal up to an orthogonal map, translation and scale.

    Raises:
        ValueError: different ``n_samples``, fewer than 2 samples, NaN/Inf, or a constant space
            (it cannot be normalised).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(50, 4))
        >>> q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
        >>> round(procrustes_distance(x, 3.0 * x @ q + 2.0), 6)
        0.0
    """
    kind = check_choice(kind, "kind", ("euclidean", "angular"))
    a = check_matrix(a, "a", min_rows=2)
    b = check_matrix(b, "b", min_rows=2)
    check_paired(a, "a", b, "b")
    xp = namespace(a=a, b=b)
    g_aa, g_bb, g_ba, _, _ = feature_grams(a, b, xp)
    norms = []
    for name, gram in (("a", g_aa), ("b", g_bb)):
        squared = float(np.trace(np.asarray(to_numpy(gram), dtype=np.float64)))
        if not squared > 0.0:
            raise ValueError(
                f"Expected `{name}` to vary across samples, but it is constant after centering: "
                "it cannot be scaled to unit norm."
            )
        norms.append(math.sqrt(squared))
    cross = np.asarray(to_numpy(g_ba), dtype=np.float64) / (norms[0] * norms[1])
    nuclear = min(1.0, float(np.linalg.svd(cross, compute_uv=False).sum()))
    if kind == "angular":
        return math.acos(nuclear)
    return math.sqrt(max(0.0, 2.0 - 2.0 * nuclear))
