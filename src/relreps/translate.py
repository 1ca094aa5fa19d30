"""Latent space translation: map one space into another from parallel anchors.

Following Maiorca et al. (NeurIPS 2023): given the same anchors embedded in space X
(``x_anchors``, (n_anchors, d_x)) and space Y (``y_anchors``, (n_anchors, d_y)), standardise each
side on its anchor statistics, fit a map between the standardised anchors, and undo Y's
standardisation after mapping. The fitted estimator then carries any X vector into Y, where Y's
decoder/classifier can be reused, and back with ``inverse_transform``.

Estimators (scikit-learn shape: ``fit``, ``transform``, ``inverse_transform``, fitted state with
trailing underscores):

- :class:`Procrustes`: orthogonal map (plus an optional global scale). Different widths are
  handled by zero-padding the narrower side to ``max(d_x, d_y)`` before the rotation and dropping
  the padded coordinates after it.
- :class:`LeastSquares`: linear map by (ridge) least squares.
- :class:`Affine`: linear map plus bias by least squares.

Standardisation (``standardize=``):

- ``"feature"`` (default, as in the paper): per-feature mean and standard deviation of the
  anchors. A feature that is (nearly) constant on the anchors would be divided by ~0 (three of
  all-MiniLM-L6-v2's 384 dimensions have std ~1e-33), so each scale is floored at
  ``min_scale`` times the mean feature std.
- ``"global"``: per-feature mean, one scale (the RMS norm of the centered anchors). Keeps angles,
  so :class:`Procrustes` recovers an exact rotation.
- ``"none"``: use the raw coordinates.

:func:`inverse_relative_projection` goes from a cosine relative representation back to an
absolute space.
"""

from __future__ import annotations

from typing import Any, Literal

from relreps._array import Array, default_float, is_floating, namespace, row_norms
from relreps._validation import (
    check_choice,
    check_float,
    check_matrix,
    check_paired,
    fail,
)
from relreps.errors import NotFittedError

__all__ = [
    "Affine",
    "LeastSquares",
    "NotFittedError",
    "Procrustes",
    "inverse_relative_projection",
]

Standardize = Literal["feature", "global", "none"]
_STANDARDIZE = ("feature", "global", "none")
_EPS = 1e-12


def _float(x: Array, xp: Any) -> Array:
    if is_floating(xp, x.dtype):
        return x
    return xp.astype(x, default_float(xp, getattr(x, "device", None)))


def _side_stats(x: Array, mode: str, min_scale: float, name: str, xp: Any) -> tuple[Array, Array]:
    """(mean (d,), scale (d,)) of one side's anchors for the standardisation ``mode``."""
    d = x.shape[1]
    if mode == "none":
        return xp.zeros(d, dtype=x.dtype), xp.ones(d, dtype=x.dtype)
    mean = xp.mean(x, axis=0)
    centered = x - mean[None, :]
    if mode == "global":
        rms = float(xp.sqrt(xp.mean(row_norms(centered, xp) ** 2)))
        if rms <= _EPS:
            raise ValueError(
                f"Expected `{name}` to vary across anchors, but every anchor is the same vector: "
                "it cannot be standardised."
            )
        return mean, xp.full(d, rms, dtype=x.dtype)
    std = xp.sqrt(xp.mean(centered * centered, axis=0))
    typical = float(xp.mean(std))
    if typical <= _EPS:
        raise ValueError(
            f"Expected `{name}` to vary across anchors, but every feature is constant: it "
            "cannot be standardised."
        )
    floor = xp.asarray(min_scale * typical, dtype=x.dtype)
    return mean, xp.maximum(std, floor)


def _pad(x: Array, width: int, xp: Any) -> Array:
    if x.shape[1] == width:
        return x
    zeros = xp.zeros((x.shape[0], width - x.shape[1]), dtype=x.dtype)
    return xp.concat([x, zeros], axis=1)


class _Translator:
    """Shared fit/transform shell: standardise, map, un-standardise."""

    def __init__(self, *, standardize: Standardize = "feature", min_scale: float = 1e-6) -> None:
        self.standardize = standardize
        self.min_scale = min_scale

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    def _params(self) -> dict[str, Any]:
        return {"standardize": self.standardize, "min_scale": self.min_scale}

    def fit(self, x_anchors: Array, y_anchors: Array) -> _Translator:
        """Fit the map from parallel anchors.

        Args:
            x_anchors: (n_anchors, d_x) anchors in the source space X.
            y_anchors: (n_anchors, d_y) the same anchors in the target space Y (row i of both
                is anchor i).

        Returns:
            self, fitted.
        """
        mode = check_choice(self.standardize, "standardize", _STANDARDIZE)
        min_scale = check_float(self.min_scale, "min_scale", low=0.0, low_inclusive=False)
        x_anchors = check_matrix(x_anchors, "x_anchors", shape_doc="(n_anchors, d_x)", min_rows=2)
        y_anchors = check_matrix(y_anchors, "y_anchors", shape_doc="(n_anchors, d_y)", min_rows=2)
        check_paired(x_anchors, "x_anchors", y_anchors, "y_anchors")
        xp = namespace(x_anchors=x_anchors, y_anchors=y_anchors)
        x = _float(x_anchors, xp)
        y = _float(y_anchors, xp)
        self.x_mean_, self.x_scale_ = _side_stats(x, mode, min_scale, "x_anchors", xp)
        self.y_mean_, self.y_scale_ = _side_stats(y, mode, min_scale, "y_anchors", xp)
        self.n_features_in_ = int(x.shape[1])
        self.n_features_out_ = int(y.shape[1])
        self._fit_map((x - self.x_mean_) / self.x_scale_, (y - self.y_mean_) / self.y_scale_, xp)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(x_anchors, y_anchors) "
                "before transform/inverse_transform."
            )

    def _input(self, v: Array, name: str, width: int, side: str) -> tuple[Array, Any]:
        v = check_matrix(v, name)
        xp = namespace(**{name: v, "fitted state": self.x_mean_})
        if v.shape[1] != width:
            raise fail(
                name,
                f"an array with {width} features (the {side} space seen in fit)",
                f"shape {tuple(v.shape)}",
            )
        return xp.astype(_float(v, xp), self.x_mean_.dtype), xp

    def transform(self, x: Array) -> Array:
        """Map X vectors into Y.

        Args:
            x: (n_samples, d_x) vectors of the source space.

        Returns:
            (n_samples, d_y) vectors in the target space (same array library).
        """
        self._check_fitted()
        v, xp = self._input(x, "x", self.n_features_in_, "source")
        return self._forward((v - self.x_mean_) / self.x_scale_, xp) * self.y_scale_ + self.y_mean_

    def inverse_transform(self, y: Array) -> Array:
        """Map Y vectors back into X (exact for invertible maps, e.g. equal widths).

        Args:
            y: (n_samples, d_y) vectors of the target space.

        Returns:
            (n_samples, d_x) vectors in the source space.
        """
        self._check_fitted()
        v, xp = self._input(y, "y", self.n_features_out_, "target")
        return self._backward((v - self.y_mean_) / self.y_scale_, xp) * self.x_scale_ + self.x_mean_

    def fit_transform(self, x_anchors: Array, y_anchors: Array) -> Array:
        """``fit(x_anchors, y_anchors)`` then ``transform(x_anchors)``."""
        return self.fit(x_anchors, y_anchors).transform(x_anchors)

    def _fit_map(self, xs: Array, ys: Array, xp: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forward(self, xs: Array, xp: Any) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError

    def _backward(self, ys: Array, xp: Any) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError


class Procrustes(_Translator):
    """Orthogonal map (optionally times a global scale) between standardised spaces.

    Fits ``R = argmin ||x_s R - y_s||_F`` over orthogonal ``R`` (SVD of ``x_s^T y_s``, widths
    zero-padded to ``max(d_x, d_y)``) and, with ``scale=True``, the least-squares factor ``s``
    for ``s * x_s R``.

    Args:
        scale: also fit a global scale factor.
        standardize: ``"feature"``, ``"global"`` or ``"none"`` (module docstring).
        min_scale: floor of per-feature scales, relative to the mean feature std.

    Attributes:
        rotation_: (d, d) orthogonal matrix, ``d = max(d_x, d_y)``.
        scale_: the global factor (1.0 with ``scale=False``).
        x_mean_, x_scale_, y_mean_, y_scale_: (d_x,) / (d_y,) standardisation statistics.
        n_features_in_, n_features_out_: ``d_x`` and ``d_y``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(100, 4))
        >>> q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
        >>> t = Procrustes(standardize="global").fit(x, 2.0 * x @ q + 1.0)
        >>> bool(np.allclose(t.transform(x), 2.0 * x @ q + 1.0))
        True
    """

    def __init__(
        self, scale: bool = True, *, standardize: Standardize = "feature", min_scale: float = 1e-6
    ) -> None:
        super().__init__(standardize=standardize, min_scale=min_scale)
        self.scale = scale

    def _params(self) -> dict[str, Any]:
        return {"scale": self.scale, **super()._params()}

    def _fit_map(self, xs: Array, ys: Array, xp: Any) -> None:
        if not isinstance(self.scale, bool):
            raise fail("scale", "a bool", repr(self.scale), TypeError)
        width = max(xs.shape[1], ys.shape[1])
        xp_pad, yp_pad = _pad(xs, width, xp), _pad(ys, width, xp)
        u, s, vt = xp.linalg.svd(
            xp.matmul(xp.matrix_transpose(xp_pad), yp_pad), full_matrices=False
        )
        self.rotation_ = xp.matmul(u, vt)
        self.scale_ = 1.0
        if self.scale:
            energy = float(xp.sum(xs * xs))
            self.scale_ = float(xp.sum(s)) / energy if energy > 0 else 1.0

    def _forward(self, xs: Array, xp: Any) -> Array:
        width = self.rotation_.shape[0]
        out = xp.matmul(_pad(xs, width, xp), self.rotation_) * self.scale_
        return out[:, : self.n_features_out_]

    def _backward(self, ys: Array, xp: Any) -> Array:
        width = self.rotation_.shape[0]
        back = xp.matmul(_pad(ys, width, xp), xp.matrix_transpose(self.rotation_)) / self.scale_
        return back[:, : self.n_features_in_]


class LeastSquares(_Translator):
    """Linear map ``y_s = x_s W`` by (ridge) least squares between standardised spaces.

    ``ridge = 0``: the minimum-norm least-squares solution (pseudo-inverse);
    ``ridge > 0``: ``W = (x_s^T x_s + ridge I)^{-1} x_s^T y_s`` on the standardised anchors.

    Args:
        ridge: L2 penalty (>= 0) on ``W``.
        standardize: ``"feature"``, ``"global"`` or ``"none"`` (module docstring).
        min_scale: floor of per-feature scales, relative to the mean feature std.

    Attributes:
        coef_: (d_x, d_y) map ``W``.
        x_mean_, x_scale_, y_mean_, y_scale_, n_features_in_, n_features_out_: as
            :class:`Procrustes`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(50, 3))
        >>> m = rng.normal(size=(3, 3))
        >>> t = LeastSquares().fit(x, x @ m)
        >>> bool(np.allclose(t.inverse_transform(t.transform(x[:5])), x[:5]))
        True
    """

    def __init__(
        self, ridge: float = 0.0, *, standardize: Standardize = "feature", min_scale: float = 1e-6
    ) -> None:
        super().__init__(standardize=standardize, min_scale=min_scale)
        self.ridge = ridge

    def _params(self) -> dict[str, Any]:
        return {"ridge": self.ridge, **super()._params()}

    def _solve(self, design: Array, ys: Array, xp: Any, penalised: int) -> Array:
        ridge = check_float(self.ridge, "ridge", low=0.0)
        if ridge == 0.0:
            return xp.matmul(xp.linalg.pinv(design), ys)
        gram = xp.matmul(xp.matrix_transpose(design), design)
        diag = [1.0] * penalised + [0.0] * (design.shape[1] - penalised)
        penalty = ridge * xp.asarray(diag, dtype=design.dtype)
        gram = gram + xp.eye(design.shape[1], dtype=design.dtype) * penalty[None, :]
        return xp.linalg.solve(gram, xp.matmul(xp.matrix_transpose(design), ys))

    def _fit_map(self, xs: Array, ys: Array, xp: Any) -> None:
        self.coef_ = self._solve(xs, ys, xp, xs.shape[1])
        self._coef_pinv = xp.linalg.pinv(self.coef_)

    def _forward(self, xs: Array, xp: Any) -> Array:
        return xp.matmul(xs, self.coef_)

    def _backward(self, ys: Array, xp: Any) -> Array:
        return xp.matmul(ys, self._coef_pinv)


class Affine(LeastSquares):
    """Affine map ``y_s = x_s W + b`` by (ridge) least squares; the bias is not penalised.

    With the default per-feature standardisation the anchors are centered, so the fitted bias is
    ~0 and this equals :class:`LeastSquares`; the bias matters with ``standardize="none"``.

    Attributes:
        coef_: (d_x, d_y) linear part ``W``.
        intercept_: (d_y,) bias ``b`` (in standardised Y coordinates).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(50, 3))
        >>> t = Affine(standardize="none").fit(x, x @ np.diag([1.0, 2.0, 3.0]) + 5.0)
        >>> np.round(t.intercept_, 6).tolist()
        [5.0, 5.0, 5.0]
    """

    def _fit_map(self, xs: Array, ys: Array, xp: Any) -> None:
        ones = xp.ones((xs.shape[0], 1), dtype=xs.dtype)
        full = self._solve(xp.concat([xs, ones], axis=1), ys, xp, xs.shape[1])
        self.coef_ = full[:-1, :]
        self.intercept_ = full[-1, :]
        self._coef_pinv = xp.linalg.pinv(self.coef_)

    def _forward(self, xs: Array, xp: Any) -> Array:
        return xp.matmul(xs, self.coef_) + self.intercept_[None, :]

    def _backward(self, ys: Array, xp: Any) -> Array:
        return xp.matmul(ys - self.intercept_[None, :], self._coef_pinv)


def inverse_relative_projection(
    rel: Array, anchors_b: Array, *, norm: float | None = None
) -> Array:
    """From cosine relative representations back to absolute vectors of space B.

    A cosine relative vector is ``rel = u @ A^T`` with ``u`` the unit direction of the sample and
    ``A`` B's L2-normalised anchors (n_anchors, d). The direction is recovered by least squares,
    ``u ~ rel @ pinv(A^T)``, re-normalised, and rescaled to B's typical norm. The direction is
    exact when the anchors span B (``n_anchors >= d`` in general position); otherwise it is the
    component within the anchors' span. The norm itself is lost by the cosine and replaced.

    Args:
        rel: (n_samples, n_anchors) cosine similarities to the anchors (e.g. from
            ``relreps.relative_projection(..., similarity="cosine")`` in any space).
        anchors_b: (n_anchors, d) the same anchors embedded in B.
        norm: output row norm; default: the mean norm of ``anchors_b``'s rows.

    Returns:
        (n_samples, d) vectors in B (same array library); zero relative rows stay zero.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> anchors = rng.normal(size=(10, 4))
        >>> x = rng.normal(size=(3, 4))
        >>> unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)
        >>> rel = unit(x) @ unit(anchors).T
        >>> back = inverse_relative_projection(rel, anchors, norm=1.0)
        >>> bool(np.allclose(back, unit(x)))
        True
    """
    rel = check_matrix(rel, "rel", shape_doc="(n_samples, n_anchors)")
    anchors_b = check_matrix(anchors_b, "anchors_b", shape_doc="(n_anchors, n_features)")
    xp = namespace(rel=rel, anchors_b=anchors_b)
    if rel.shape[1] != anchors_b.shape[0]:
        raise ValueError(
            "Expected `rel` to have one column per row of `anchors_b`, but `rel` has shape "
            f"{tuple(rel.shape)} and `anchors_b` has shape {tuple(anchors_b.shape)}."
        )
    anchors = _float(anchors_b, xp)
    anchor_norms = row_norms(anchors, xp)
    if norm is None:
        norm = float(xp.mean(anchor_norms))
        if norm <= _EPS:
            raise ValueError(
                "Expected `anchors_b` to have non-zero rows, but every row is zero: there is no "
                "typical norm to rescale to (pass `norm`)."
            )
    else:
        norm = check_float(norm, "norm", low=0.0, low_inclusive=False)
    unit_anchors = (
        anchors / xp.maximum(anchor_norms, xp.asarray(_EPS, dtype=anchors.dtype))[:, None]
    )
    rel_f = xp.astype(_float(rel, xp), anchors.dtype)
    direction = xp.matmul(rel_f, xp.linalg.pinv(xp.matrix_transpose(unit_anchors)))
    lengths = row_norms(direction, xp)
    scale = norm / xp.maximum(lengths, xp.asarray(_EPS, dtype=lengths.dtype))
    scale = xp.where(lengths > _EPS, scale, xp.zeros_like(scale))
    return direction * scale[:, None]
