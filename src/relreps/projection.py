"""The relative projection: represent each sample by its similarities to a set of anchors.

``rel(x)_j = sim(x, a_j)`` for anchors ``a_1..a_K``. With the paper's cosine similarity, ``rel`` is
unchanged by any rotation, reflection or global rescale of the latent space, so spaces of different
models become directly comparable and heads trained on one model's ``rel`` accept another's.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from relreps._array import (
    Array,
    default_float,
    device_of,
    is_dask,
    is_floating,
    is_numpy,
    namespace,
    row_norms,
)
from relreps._cosine_blocks import project_into
from relreps._validation import (
    check_choice,
    check_finite,
    check_finite_anchors,
    check_finite_rows,
    check_int,
    check_matrix,
    check_out,
    check_same_device,
    check_same_features,
    fail,
)
from relreps.errors import NotFittedError
from relreps.projection_spec import (
    AGGREGATES,
    UNSET,
    ProjectionSpec,
    Unset,
    resolve_similarities,
)
from relreps.similarity import Similarity, get_similarity

__all__ = ["AGGREGATES", "ProjectionSpec", "RelativeProjector", "relative_projection"]

SimilaritySpec = str | Similarity | Sequence[str | Similarity]
CenterSpec = str | Array | None

# Temporaries made per chunk (centred copies, distance blocks) stay near this size by default.
_CHUNK_BUDGET_BYTES = 64 * 2**20
# A block's standard deviation on the anchors is floored relative to its mean magnitude, so a
# constant block (e.g. a similarity that saturates) does not blow up when standardised.
_STD_FLOOR = 1e-12


def relative_projection(
    x: Array,
    anchors: Array,
    *,
    spec: ProjectionSpec | None = None,
    similarity: SimilaritySpec | Unset = UNSET,
    center: CenterSpec | Unset = UNSET,
    chunk_size: int | Unset | None = UNSET,
    out: Array | None = None,
    aggregate: str | Unset = UNSET,
    topk: int | Unset | None = UNSET,
    power: float | Unset | None = UNSET,
) -> Array:
    """Relative representation of ``x`` with respect to ``anchors``.

    The options are those of a :class:`relreps.ProjectionSpec` (where their defaults live):
    give a ``spec``, keywords, or both as long as every keyword agrees with the spec.

    Args:
        x: samples, shape (n_samples, n_features); numpy, torch (CPU/GPU) or any array-API array.
            Integer input is promoted to the library's default float.
        anchors: anchor samples embedded by the SAME encoder, shape (n_anchors, n_features).
        spec: the projection options as one :class:`relreps.ProjectionSpec`; the keywords below
            are a convenience for the same options (default: ``ProjectionSpec()``'s).
        similarity: a registry name (see :func:`relreps.similarities`), a
            :class:`relreps.Similarity`, or a list of them for a product of invariances.
        center: ``None`` (the paper), ``"anchors"`` (subtract the anchor mean from ``x`` and the
            anchors: adds translation invariance, needed by anisotropic encoders such as e5) or an
            explicit vector of shape (n_features,).
        chunk_size: rows of ``x`` processed at a time; bounds the temporaries. By default plain
            cosine/inner work in ~64 MB row blocks written straight into the result.
        out: optional preallocated result (a numpy memmap streams projections larger than memory
            to disk); shape (n_samples, n_columns) and the result dtype.
        aggregate: for a list of similarities: ``"concat"`` (n_anchors * n_similarities columns),
            ``"sum"`` or ``"mean"`` (n_anchors columns). Each block is first standardised with the
            mean and standard deviation of its values between distinct anchors, and distances are
            negated, so every block reads "higher = closer" and none dominates.
        topk: keep only the ``topk`` closest anchors per row (largest similarity, smallest distance,
            largest magnitude for coordinates) and set the rest to 0 (ASIF-style sparse codes).
        power: raise the kept values to this power (sign preserved: ``sign(v) * |v| ** power``),
            then L2-normalise each row.

    Returns:
        Array of shape (n_samples, n_anchors) (``n_anchors * len(similarity)`` for ``"concat"``),
        same array type, device and floating dtype as ``x``. Zero rows (and zero anchors) give
        cosine 0, never NaN. This function returns RAW similarities (no normalisation of the
        relative vectors) unless ``power`` is given; models normalise them on the receiving side.

    Raises:
        ValueError: non-2-D inputs, different feature counts, no anchors, NaN/Inf (naming the
            array and its first bad row), bad option values, a keyword that contradicts ``spec``,
            an ``out`` of the wrong shape.
        TypeError: arrays from different libraries, non-numeric input, ``out`` of the wrong dtype,
            a ``spec`` that is not a ProjectionSpec.

    Example:
        >>> import numpy as np
        >>> from relreps import relative_projection
        >>> rng = np.random.default_rng(0)
        >>> x, anchors = rng.normal(size=(5, 8)), rng.normal(size=(3, 8))
        >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))   # a random rotation/reflection
        >>> rel = relative_projection(x, anchors)
        >>> rel.shape
        (5, 3)
        >>> bool(np.allclose(rel, relative_projection(2.5 * x @ q, 2.5 * anchors @ q)))
        True
    """
    vector: CenterSpec = None  # an explicit centre vector is a keyword only, never in a spec
    if center is not UNSET and center is not None and not isinstance(center, str):
        vector, center = center, UNSET
    spec = ProjectionSpec.resolve(
        spec, similarity=similarity, center=center, aggregate=aggregate, topk=topk, power=power,
        chunk_size=chunk_size,
    )  # fmt: skip
    if vector is not None and spec.center is not None:
        raise ValueError(
            f"Expected `center` to be left out or to agree with `spec` "
            f"(spec.center={spec.center!r}), but got a centre vector: give each projection "
            "option once, in the spec or as a keyword."
        )
    if is_dask(x) or is_dask(anchors):  # lazy, blockwise: relreps._dask (imports dask)
        from relreps._dask import dask_projection

        options = spec.options()
        if vector is not None:
            options["center"] = vector
        return dask_projection(relative_projection, x, anchors, out=out, **options)
    x = check_matrix(x, "x", finite=False)
    anchors = check_matrix(anchors, "anchors", shape_doc="(n_anchors, n_features)", finite=False)
    xp = namespace(x=x, anchors=anchors, out=out)
    check_same_features(x, "x", anchors, "anchors")
    check_same_device(x, "x", anchors, "anchors")
    dtype = x.dtype if is_floating(xp, x.dtype) else default_float(xp, device_of(x))
    plan = _plan(anchors, spec, spec.center if vector is None else vector, xp, dtype)
    return _apply(x, plan, spec.chunk_size, out, xp, dtype, grad=_needs_grad(x, anchors))


@dataclass(frozen=True)
class _Plan:
    """Everything computed once per anchor set, reused for every chunk of ``x``."""

    blocks: tuple[tuple[Similarity, Any], ...]
    block_stats: tuple[tuple[Any, Any, float], ...] | None  # (mean, std, sign) per block
    center: Array | None
    aggregate: str
    topk: int | None
    power: float | None
    n_anchors: int

    @property
    def n_columns(self) -> int:
        if len(self.blocks) > 1 and self.aggregate == "concat":
            return self.n_anchors * len(self.blocks)
        return self.n_anchors

    @property
    def writes_in_place(self) -> bool:
        """Plain cosine/inner: the matrix product lands straight in the result."""
        return (
            len(self.blocks) == 1
            and self.blocks[0][0].compute in _INTO
            and self.topk is None
            and self.power is None
        )


def _resolve_center(center: CenterSpec, anchors: Array, xp: Any, dtype: Any) -> Array | None:
    if center is None:
        return None
    if isinstance(center, str):
        check_choice(center, "center", ["anchors"])
        return xp.mean(anchors, axis=0)
    try:
        vector = xp.asarray(center, dtype=dtype, device=device_of(anchors))
    except (TypeError, ValueError, RuntimeError) as err:
        raise fail(
            "center", "None, 'anchors' or a vector of shape (n_features,)", repr(center), TypeError
        ) from err
    if vector.ndim != 1 or vector.shape[0] != anchors.shape[1]:
        raise fail(
            "center",
            f"None, 'anchors' or a vector of shape ({anchors.shape[1]},)",
            f"shape {tuple(vector.shape)}",
        )
    check_finite(vector, "center")
    return vector


def _plan(anchors: Array, spec: ProjectionSpec, center: CenterSpec, xp: Any, dtype: Any) -> _Plan:
    """Prepare the anchors of a validated spec; ``center`` is ``spec.center`` or a vector."""
    sims = resolve_similarities(spec.similarity)
    aggregate, topk, power = spec.aggregate, spec.topk, spec.power
    check_finite_anchors(anchors, xp)
    if anchors.dtype != dtype:
        anchors = xp.astype(anchors, dtype)
    n_anchors = anchors.shape[0]
    n_columns = n_anchors * len(sims) if len(sims) > 1 and aggregate == "concat" else n_anchors
    if topk is not None:
        check_int(topk, "topk", low=1, high=n_columns, hint="the number of output columns")
    center_vec = _resolve_center(center, anchors, xp, dtype)
    if center_vec is not None:
        anchors = anchors - center_vec
    blocks = tuple((s, s.prepare(anchors, s.params)) for s in sims)
    stats = None
    if len(blocks) > 1:
        stats = tuple(_anchor_stats(s, state, anchors, xp) for s, state in blocks)
    return _Plan(blocks, stats, center_vec, aggregate, topk, power, n_anchors)


def _anchor_stats(sim: Similarity, state: Any, anchors: Array, xp: Any) -> tuple[Any, Any, float]:
    """Mean and standard deviation of a block's values between DISTINCT anchors, and its sign.

    The diagonal (each anchor against itself: distance 0, cosine 1) says nothing about the spread
    and sits where distances are not differentiable, so it is left out when there are two or more
    anchors. The statistics stay 0-d arrays (not Python floats) so gradients reach the anchors.
    """
    values = sim.compute(anchors, state)
    k = values.shape[0]
    if k > 1:
        index = xp.arange(k, device=device_of(values))
        values = values[index[:, None] != index[None, :]]
    mean = xp.mean(values)
    std = xp.std(values)
    scale = xp.abs(mean)
    floor = _STD_FLOOR * xp.where(scale > 1, scale, xp.ones_like(scale))
    std = xp.where(std < floor, floor, std)
    return mean, std, -1.0 if sim.kind == "distance" else 1.0


def _default_chunk_rows(n_features: int, n_columns: int, itemsize: int) -> int:
    return max(1, _CHUNK_BUDGET_BYTES // (max(n_features, n_columns) * itemsize))


def _needs_grad(*arrays: Array) -> bool:
    return any(bool(getattr(a, "requires_grad", False)) for a in arrays)


def _apply(
    x: Array,
    plan: _Plan,
    chunk_size: int | None,
    out: Array | None,
    xp: Any,
    dtype: Any,
    *,
    grad: bool,
) -> Array:
    n, d = x.shape
    n_columns = plan.n_columns
    itemsize = 8 if dtype == xp.float64 else 4
    rows = _default_chunk_rows(d, n_columns, itemsize) if chunk_size is None else chunk_size
    if out is not None:
        check_out(out, n, n_columns, dtype)
        check_same_device(x, "x", out, "out")
    if grad and out is None:
        # Autograd cannot flow through writes into a preallocated buffer.
        parts = [_block(x[s : s + rows, ...], s, plan, xp, dtype) for s in range(0, n, rows)]
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
    # Writing through views in place is only defined for libraries with view semantics.
    in_place = plan.writes_in_place and (is_numpy(x) or type(x).__module__ == "torch")
    if out is None:
        if n <= rows and not in_place:
            return _block(x, 0, plan, xp, dtype)
        out = xp.empty((n, n_columns), dtype=dtype, device=device_of(x))
    in_place = in_place and (is_numpy(out) or type(out).__module__ == "torch")
    if in_place and _fused(x, plan, out, rows, dtype):
        return out
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        dest = out[start:stop, ...]
        if in_place:
            _cosine_or_inner_into(x[start:stop, ...], start, plan, xp, dtype, dest)
        else:
            out[start:stop, ...] = _block(x[start:stop, ...], start, plan, xp, dtype)
    return out


def _as_numpy(a: Any) -> Any:
    """A numpy view of a numpy array or a CPU torch tensor that numpy can share; else None."""
    if a is None or is_numpy(a):
        return a
    if type(a).__module__ == "torch" and a.device.type == "cpu" and not a.requires_grad:
        try:
            return a.numpy()
        except (TypeError, RuntimeError):  # e.g. bfloat16: no numpy dtype
            return None
    return None


def _fused(x: Array, plan: _Plan, out: Array, rows: int, dtype: Any) -> bool:
    """Run the fused blocked kernel (numpy and CPU torch) into ``out``; False if not applicable."""
    sim, state = plan.blocks[0]
    arrays = [_as_numpy(a) for a in (x, state, out)]
    center = _as_numpy(plan.center)
    if any(a is None for a in arrays) or (plan.center is not None and center is None):
        return False
    x_np, state_np, out_np = arrays
    if not out_np.flags.writeable or out_np.dtype != state_np.dtype:
        return False
    project_into(
        x_np, state_np.T, out_np, cosine=sim.compute is _INTO_COSINE, dtype=out_np.dtype,
        center=center, max_rows=rows,
        check_rows=lambda block, norms, start: check_finite_rows(block, norms, start, np),
    )  # fmt: skip
    return True


def _prepared_rows(chunk: Array, plan: _Plan, xp: Any, dtype: Any) -> Array:
    """Cast and centre a chunk of ``x``; reject NaN/Inf from the rows' norms (no full-size mask)."""
    if chunk.dtype != dtype:
        chunk = xp.astype(chunk, dtype)
    if plan.center is not None:
        chunk = chunk - plan.center
    return chunk


def _block(chunk: Array, start: int, plan: _Plan, xp: Any, dtype: Any) -> Array:
    chunk = _prepared_rows(chunk, plan, xp, dtype)
    check_finite_rows(chunk, row_norms(chunk, xp), start, xp)
    if plan.block_stats is None:
        sim, state = plan.blocks[0]
        values = sim.compute(chunk, state)
        kind = sim.kind
    else:
        parts = []
        for (sim, state), (mean, std, sign) in zip(plan.blocks, plan.block_stats, strict=True):
            parts.append((sim.compute(chunk, state) - mean) * (sign / std))
        if plan.aggregate == "concat":
            values = xp.concat(parts, axis=1)
        else:
            values = parts[0]
            for part in parts[1:]:
                values = values + part
            if plan.aggregate == "mean":
                values = values / len(parts)
        kind = "similarity"
    if plan.topk is not None:
        values = _keep_topk(values, plan.topk, kind, xp)
    if plan.power is not None:
        values = xp.sign(values) * xp.abs(values) ** plan.power
        norms = row_norms(values, xp) if not _needs_grad(values) else _grad_norms(values, xp)
        values = values / xp.where(norms == 0, xp.ones_like(norms), norms)[:, None]
    return values


def _grad_norms(values: Array, xp: Any) -> Array:
    return xp.sqrt(xp.sum(values * values, axis=1))


def _keep_topk(values: Array, k: int, kind: str, xp: Any) -> Array:
    """Zero all but the k closest entries per row; ties go to the lower anchor index."""
    if kind == "distance":
        key = -values
    elif kind == "coordinates":
        key = xp.abs(values)
    else:
        key = values
    order = xp.argsort(key, axis=1, descending=True, stable=True)
    ranks = xp.argsort(order, axis=1, stable=True)
    return xp.where(ranks < k, values, xp.zeros_like(values))


def _cosine_or_inner_into(
    chunk: Array, start: int, plan: _Plan, xp: Any, dtype: Any, dest: Array
) -> None:
    """Write ``chunk @ anchors.T`` straight into ``dest`` and rescale its rows in place, so the
    only full-size array is the result itself (no normalised copy of x, no product temporary)."""
    chunk = _prepared_rows(chunk, plan, xp, dtype)
    sim, state = plan.blocks[0]
    norms = row_norms(chunk, xp)
    check_finite_rows(chunk, norms, start, xp)
    _matmul_into(chunk, state.T, dest)
    if sim.compute is _INTO_COSINE:
        dest /= xp.where(norms == 0, xp.ones_like(norms), norms)[:, None]
    else:
        dest *= 1.0 / float(chunk.shape[1]) ** 0.5


def _matmul_into(a: Array, b: Array, dest: Array) -> None:
    if is_numpy(dest) and is_numpy(a):
        import numpy as np

        if dest.flags.c_contiguous:
            np.matmul(a, b, out=dest)
            return
    elif type(dest).__module__ == "torch":
        import torch

        if dest.is_contiguous():
            torch.matmul(a, b, out=dest)
            return
    dest[...] = a @ b


def _is_default(value: Any, default: Any) -> bool:
    if default is None:
        return value is None
    return isinstance(value, str) and value == default


_DEFAULT = ProjectionSpec()

# The built-in cosine and inner kernels (registered when relreps.similarity is imported).
_INTO_COSINE = get_similarity("cosine").compute
_INTO = (_INTO_COSINE, get_similarity("inner").compute)


class RelativeProjector:
    """Scikit-learn style estimator around :func:`relative_projection`.

    ``fit(anchors)`` stores the anchors (and the centre) and prepares them once; ``transform(x)``
    projects any number of sample batches against them.

    Args:
        similarity: as in :func:`relative_projection`.
        center: as in :func:`relative_projection`; ``"anchors"`` is resolved at fit time.
        aggregate: as in :func:`relative_projection`.
        topk: as in :func:`relative_projection`.
        power: as in :func:`relative_projection`.
        chunk_size: as in :func:`relative_projection`.
        spec: all of the above as one :class:`relreps.ProjectionSpec`. The other parameters then
            keep their defaults (scikit-learn parameters hold values, so a parameter at its
            default counts as not given) or agree with the spec; ``fit`` raises otherwise.

    The defaults are :class:`relreps.ProjectionSpec`'s.

    Attributes:
        spec_: the :class:`relreps.ProjectionSpec` fitted (``spec`` and the parameters merged).
        anchors_: the fitted anchors, shape (n_anchors, n_features).
        center_: the centre vector subtracted from every input, or None.
        n_features_in_: n_features seen at fit.
        n_anchors_: number of anchors.

    Example:
        >>> import numpy as np
        >>> from relreps import ProjectionSpec, RelativeProjector
        >>> rng = np.random.default_rng(0)
        >>> projector = RelativeProjector(similarity="cosine", center="anchors")
        >>> projector.fit(rng.normal(size=(4, 6))).transform(rng.normal(size=(3, 6))).shape
        (3, 4)
        >>> RelativeProjector(spec=ProjectionSpec(center="anchors")).fit(np.eye(3)).spec_
        ProjectionSpec(similarity='cosine', center='anchors')
    """

    def __init__(
        self,
        similarity: SimilaritySpec = _DEFAULT.similarity,
        *,
        center: CenterSpec = _DEFAULT.center,
        aggregate: str = _DEFAULT.aggregate,
        topk: int | None = _DEFAULT.topk,
        power: float | None = _DEFAULT.power,
        chunk_size: int | None = _DEFAULT.chunk_size,
        spec: ProjectionSpec | None = None,
    ) -> None:
        self.similarity = similarity
        self.center = center
        self.aggregate = aggregate
        self.topk = topk
        self.power = power
        self.chunk_size = chunk_size
        self.spec = spec

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def _resolve_spec(self) -> tuple[ProjectionSpec, CenterSpec]:
        """The spec of the parameters, and the centre to resolve (spec.center or a vector)."""
        options: dict[str, Any] = {
            "similarity": self.similarity,
            "center": self.center,
            "aggregate": self.aggregate,
            "topk": self.topk,
            "power": self.power,
            "chunk_size": self.chunk_size,
        }
        vector = None
        if self.center is not None and not isinstance(self.center, str):
            vector = options.pop("center")
        if self.spec is not None:  # a parameter at its default was not given
            defaults = _DEFAULT.options()
            options = {k: v for k, v in options.items() if not _is_default(v, defaults[k])}
        spec = ProjectionSpec.resolve(self.spec, **options)
        if vector is not None and spec.center is not None:
            raise ValueError(
                f"Expected `center` to be left out or to agree with `spec` "
                f"(spec.center={spec.center!r}), but got a centre vector."
            )
        return spec, spec.center if vector is None else vector

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's ``get_params``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> RelativeProjector:
        """Set constructor parameters (unknown names raise); the estimator must be re-fitted."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise fail("params", f"names among {valid}", repr(name))
            setattr(self, name, value)
        return self

    def fit(self, anchors: Array, y: Any = None) -> RelativeProjector:
        """Validate and store the anchors, shape (n_anchors, n_features); returns self."""
        anchors = check_matrix(anchors, "anchors", shape_doc="(n_anchors, n_features)")
        xp = namespace(anchors=anchors)
        dtype = anchors.dtype if is_floating(xp, anchors.dtype) else default_float(xp)
        spec, center = self._resolve_spec()
        plan = _plan(anchors, spec, center, xp, dtype)
        self.spec_ = spec
        self.anchors_ = anchors
        self.center_ = plan.center
        self.n_features_in_ = int(anchors.shape[1])
        self.n_anchors_ = int(anchors.shape[0])
        self._fitted_plan = plan
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "anchors_"):
            raise NotFittedError(
                "This RelativeProjector is not fitted yet: call fit(anchors) before transform(x)."
            )

    def transform(self, x: Array, *, out: Array | None = None) -> Array:
        """Project ``x`` (n_samples, n_features) -> (n_samples, n_columns)."""
        self._check_fitted()
        spec = self.spec_
        if is_dask(x):
            # the centre is resolved at fit: pass it as a vector, outside the spec
            plain = replace(spec, center=None)
            return relative_projection(x, self.anchors_, spec=plain, center=self.center_)
        x = check_matrix(x, "x", finite=False)
        xp = namespace(x=x, anchors=self.anchors_, out=out)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"Expected `x` to have {self.n_features_in_} features (as the fitted anchors), but "
                f"got shape {tuple(x.shape)}."
            )
        check_same_device(x, "x", self.anchors_, "anchors_")
        dtype = x.dtype if is_floating(xp, x.dtype) else default_float(xp, device_of(x))
        plan = self._fitted_plan
        if self.anchors_.dtype != dtype:  # prepared in another precision: prepare again
            plan = _plan(self.anchors_, spec, self.center_, xp, dtype)
        return _apply(x, plan, spec.chunk_size, out, xp, dtype, grad=_needs_grad(x, self.anchors_))

    def fit_transform(self, anchors: Array, y: Any = None) -> Array:
        """Fit on the anchors and return their own relative representation (K, n_columns)."""
        return self.fit(anchors).transform(anchors)

    def __repr__(self) -> str:
        params = self.get_params()
        if params["spec"] is None:
            params.pop("spec")
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"RelativeProjector({args})"

    def __getstate__(self) -> dict[str, Any]:
        # Prepared states hold functions from the registry; they are rebuilt on unpickling.
        state = dict(self.__dict__)
        state.pop("_fitted_plan", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if hasattr(self, "anchors_"):
            self.fit(self.anchors_)
