"""Many spaces at once: generalised Procrustes to one shared frame.

Given the same ``n_anchors`` items embedded in ``N >= 2`` spaces (widths may differ), each
space is standardised on its anchors (mean removed, one global scale so the anchors have unit RMS
norm) and zero-padded to the widest width ``d``; then, alternately, the shared frame is the mean
of the rotated anchors and each space's rotation is the orthogonal Procrustes solution onto it,
until the mean moves by less than ``tol`` (relative) or after ``max_iter`` iterations. The first
space's rotation is the identity at the start, so the frame is that space's, up to the fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import check_float, check_int, check_matrix, check_paired, fail

__all__ = ["SharedSpace", "generalized_procrustes"]

_EPS = 1e-12


@dataclass(frozen=True, eq=False)
class SharedSpace:
    """Maps of ``N`` spaces into one shared frame.

    Attributes:
        means: per space, its (d_i,) anchor mean.
        scales: per space, the RMS norm of its centred anchors.
        rotations: per space, a (d, d) orthogonal matrix (``d`` = the widest width).
        dims: per space, its width ``d_i``.
        n_iter: iterations run.
        residuals: per space, the RMS distance of its mapped anchors to the shared mean.
        converged: the mean moved less than ``tol`` in the last iteration.
    """

    means: tuple[np.ndarray, ...]
    scales: tuple[float, ...]
    rotations: tuple[np.ndarray, ...]
    dims: tuple[int, ...]
    n_iter: int
    residuals: tuple[float, ...]
    converged: bool

    @property
    def width(self) -> int:
        """The shared frame's width ``d``."""
        return int(self.rotations[0].shape[0])

    def transform(self, space: int, x: Any) -> np.ndarray:
        """Map rows of space ``space`` into the shared frame.

        Args:
            space: index of the space, in ``[0, N - 1]``.
            x: (n_samples, d_space) vectors of that space.

        Returns:
            (n_samples, d) float64 coordinates in the shared frame.
        """
        space = check_int(space, "space", low=0, high=len(self.dims) - 1, hint="N - 1")
        x = to_numpy(check_matrix(x, "x"))
        if x.shape[1] != self.dims[space]:
            raise fail("x", f"an array with {self.dims[space]} features (space {space})",
                       f"shape {tuple(x.shape)}")  # fmt: skip
        z = (np.asarray(x, dtype=np.float64) - self.means[space]) / self.scales[space]
        return _pad(z, self.width) @ self.rotations[space]

    def translate(self, source: int, target: int, x: Any) -> np.ndarray:
        """Map rows of space ``source`` into space ``target`` through the shared frame.

        Returns:
            (n_samples, d_target) float64 vectors of ``target``.
        """
        target = check_int(target, "target", low=0, high=len(self.dims) - 1, hint="N - 1")
        shared = self.transform(source, x)
        back = shared @ self.rotations[target].T
        return back[:, : self.dims[target]] * self.scales[target] + self.means[target]


def _pad(z: np.ndarray, width: int) -> np.ndarray:
    if z.shape[1] == width:
        return z
    return np.hstack([z, np.zeros((z.shape[0], width - z.shape[1]))])


def _rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(a.T @ b, full_matrices=False)
    return u @ vt


def generalized_procrustes(anchors: Any, *, max_iter: int = 100, tol: float = 1e-7) -> SharedSpace:
    """Align ``N >= 2`` spaces to one shared frame from parallel anchors (module docstring).

    Args:
        anchors: a sequence of ``N`` arrays, array ``i`` of shape (n_anchors, d_i); row ``k`` of
            every array is the same item.
        max_iter: most alternations (>= 1).
        tol: stop when the shared mean changes by less than this, relative to its norm.

    Returns:
        :class:`SharedSpace`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> base = rng.normal(size=(50, 4))
        >>> qs = [np.linalg.qr(rng.normal(size=(4, 4)))[0] for _ in range(3)]
        >>> shared = generalized_procrustes([3.0 * base @ q + 1.0 for q in qs])
        >>> z0 = shared.transform(0, 3.0 * base @ qs[0] + 1.0)
        >>> z2 = shared.transform(2, 3.0 * base @ qs[2] + 1.0)
        >>> bool(np.allclose(z0, z2, atol=1e-6)), shared.converged
        (True, True)
    """
    if isinstance(anchors, np.ndarray) or not hasattr(anchors, "__len__") or len(anchors) < 2:
        sized = hasattr(anchors, "__len__") and not isinstance(anchors, np.ndarray)
        got = f"{len(anchors)} item(s)" if sized else type(anchors).__name__
        raise fail("anchors", "a sequence of at least 2 arrays (n_anchors, d_i)", got,
                   ValueError if sized else TypeError)  # fmt: skip
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_float(tol, "tol", low=0.0)
    spaces: list[np.ndarray] = []
    for i, a in enumerate(anchors):
        arr = to_numpy(check_matrix(a, f"anchors[{i}]", shape_doc="(n_anchors, d_i)", min_rows=2))
        if i:
            check_paired(spaces[0], "anchors[0]", arr, f"anchors[{i}]")
        spaces.append(np.asarray(arr, dtype=np.float64))
    width = max(s.shape[1] for s in spaces)
    means, scales, zs = [], [], []
    for i, s in enumerate(spaces):
        mean = s.mean(axis=0)
        c = s - mean
        scale = float(np.sqrt(np.mean(np.sum(c * c, axis=1))))
        if scale <= _EPS:
            raise fail(f"anchors[{i}]", "anchors that vary", "every anchor the same vector")
        means.append(mean)
        scales.append(scale)
        zs.append(_pad(c / scale, width))
    rotations = [np.eye(width) for _ in zs]
    for i in range(1, len(zs)):  # start: everything rotated onto the first space
        rotations[i] = _rotation(zs[i], zs[0])
    mean = np.mean([z @ r for z, r in zip(zs, rotations, strict=True)], axis=0)
    converged, n_iter = False, 0
    while n_iter < max_iter:
        n_iter += 1
        rotations = [_rotation(z, mean) for z in zs]
        new = np.mean([z @ r for z, r in zip(zs, rotations, strict=True)], axis=0)
        change = float(np.linalg.norm(new - mean)) / max(float(np.linalg.norm(new)), _EPS)
        mean = new
        if change < tol:
            converged = True
            break
    residuals = tuple(
        float(np.sqrt(np.mean(np.sum((z @ r - mean) ** 2, axis=1))))
        for z, r in zip(zs, rotations, strict=True)
    )
    return SharedSpace(tuple(means), tuple(scales), tuple(rotations),
                       tuple(s.shape[1] for s in spaces), n_iter, residuals, converged)  # fmt: skip
