"""``ProjectionSpec``: the options of a relative projection, their defaults and their checks, once.

Every consumer of the projection takes one: :func:`relreps.relative_projection` (``spec=``),
:class:`relreps.RelativeProjector`, :class:`relreps.nn.RelativeProjection`, the stitching grid and
heads, and ``relreps project``. Their keyword arguments stay as a convenience and are resolved
through :meth:`ProjectionSpec.resolve`, so a default is written here and nowhere else.

What is NOT in the spec, and why:

- the output normalisation (``output_norm`` of :mod:`relreps.nn`, ``norm`` of the stitching
  heads): it is applied by the *receiving* side (a head or a decoder) to the relative vector after
  the projection; two models stitched together share the projection but each brings its own norm.
  The projection itself returns raw similarities.
- ``out=``: a buffer of one call, not an option of the projection.
- an explicit centre vector: only ``None``/``"anchors"`` survive a JSON round trip;
  :func:`relreps.relative_projection` still takes a vector as its ``center=`` keyword.
"""

from __future__ import annotations

import enum
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

from relreps._validation import check_choice, check_float, check_int, fail
from relreps.similarity import Similarity, get_similarity

__all__ = ["AGGREGATES", "UNSET", "ProjectionSpec", "Unset", "resolve_similarities"]

AGGREGATES = ("concat", "sum", "mean")

SimilarityOption = str | Similarity | tuple[str | Similarity, ...]


class Unset(enum.Enum):
    """The type of :data:`UNSET`: "this keyword was not given, use the spec (or its default)"."""

    TOKEN = "UNSET"

    def __repr__(self) -> str:
        return "<ProjectionSpec default>"


UNSET: Final = Unset.TOKEN
"""Default of the projection keywords of every consumer: the value comes from the spec."""


def resolve_similarities(similarity: Any) -> list[Similarity]:
    """The registry entries of a similarity option (a name, an entry, or a non-empty list).

    Raises:
        ValueError: unknown names, an empty list, the same similarity twice.
    """
    if isinstance(similarity, str | Similarity):
        return [get_similarity(similarity)]
    if isinstance(similarity, Sequence) and len(similarity) > 0:
        resolved = [get_similarity(s) for s in similarity]
        names = [s.name for s in resolved]
        if len(set(names)) != len(names):
            raise fail("similarity", "a list of distinct similarities", repr(names))
        return resolved
    raise fail(
        "similarity",
        "a similarity name, a relreps.Similarity or a non-empty list",
        repr(similarity),
    )


@dataclass(frozen=True, repr=False)
class ProjectionSpec:
    """The options of a relative projection (frozen, validated on construction, JSON round trip).

    Attributes:
        similarity: a registry name (``relreps.similarities()``), a :class:`relreps.Similarity`,
            or a list of them (stored as a tuple) for a product of invariances.
        center: ``None`` (the paper) or ``"anchors"``: subtract the anchor mean from the samples
            and the anchors (translation invariance; needed by anisotropic encoders such as e5).
        aggregate: how a list of similarities is combined: ``"concat"`` (n_anchors *
            n_similarities columns), ``"sum"`` or ``"mean"`` (n_anchors columns).
        topk: keep only the ``topk`` closest anchors per row, zero the rest (ASIF-style sparse
            codes). It must not exceed the output width, which is checked against the anchors.
        power: raise the kept values to this power (sign kept), then L2-normalise each row.
        chunk_size: rows of ``x`` projected at a time (bounds the temporaries); ``None`` picks
            blocks of about 64 MB. A memory knob: it never changes the result beyond rounding.

    The output normalisation is not a projection option: it belongs to the receiving side
    (``relreps.nn``'s ``output_norm``, the stitching heads' ``norm``), see the module docstring.

    Example:
        >>> from relreps import ProjectionSpec
        >>> spec = ProjectionSpec(similarity=["cosine", "euclidean"], aggregate="mean")
        >>> spec
        ProjectionSpec(similarity=('cosine', 'euclidean'), aggregate='mean')
        >>> ProjectionSpec.from_dict(spec.to_dict()) == spec
        True
        >>> ProjectionSpec(topk=0)
        Traceback (most recent call last):
        ...
        ValueError: Expected `topk` to be an int in [1, inf], but got 0.
    """

    similarity: SimilarityOption = "cosine"
    center: str | None = None
    aggregate: str = "concat"
    topk: int | None = None
    power: float | None = None
    chunk_size: int | None = None

    def __post_init__(self) -> None:
        similarity = self.similarity
        if isinstance(similarity, Sequence) and not isinstance(similarity, str):
            similarity = tuple(similarity)
        resolve_similarities(similarity)
        object.__setattr__(self, "similarity", similarity)
        if self.center is not None:
            if not isinstance(self.center, str):
                raise fail(
                    "center",
                    "None or 'anchors' in a ProjectionSpec (pass an explicit centre vector as "
                    "the center= keyword of relative_projection)",
                    f"{type(self.center).__name__}",
                    TypeError,
                )
            check_choice(self.center, "center", ["anchors"])
        check_choice(self.aggregate, "aggregate", AGGREGATES)
        if self.topk is not None:
            object.__setattr__(self, "topk", check_int(self.topk, "topk", low=1))
        if self.power is not None:
            check_float(self.power, "power", low=0.0, low_inclusive=False)
        if self.chunk_size is not None:
            object.__setattr__(self, "chunk_size", check_int(self.chunk_size, "chunk_size", low=1))

    # --- building one from keywords -------------------------------------------------------------

    @classmethod
    def resolve(cls, spec: ProjectionSpec | None = None, /, **options: Any) -> ProjectionSpec:
        """The spec of a call that takes ``spec=`` and the projection keywords.

        Keywords equal to :data:`UNSET` were not given. Without a spec the given keywords build
        one (the rest take their defaults); with a spec, every given keyword must agree with it.

        Raises:
            TypeError: ``spec`` is not a ProjectionSpec; a keyword that is not an option.
            ValueError: a keyword that contradicts the spec, or a bad option value.

        Example:
            >>> ProjectionSpec.resolve(None, topk=3, power=UNSET)
            ProjectionSpec(similarity='cosine', topk=3)
            >>> ProjectionSpec.resolve(ProjectionSpec(topk=3), topk=4)
            Traceback (most recent call last):
            ...
            ValueError: Expected `topk` to be left out or to agree with `spec` (spec.topk=3), ...
        """
        names = _field_names()
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise fail(
                "options", f"projection options among {list(names)}", repr(unknown), TypeError
            )
        given = {name: value for name, value in options.items() if value is not UNSET}
        if spec is None:
            return cls(**given)
        if not isinstance(spec, ProjectionSpec):
            raise fail("spec", "a relreps.ProjectionSpec or None", type(spec).__name__, TypeError)
        for name, value in given.items():
            if not _agree(name, value, getattr(spec, name)):
                raise ValueError(
                    f"Expected `{name}` to be left out or to agree with `spec` "
                    f"(spec.{name}={getattr(spec, name)!r}), but got {value!r}: give each "
                    "projection option once, in the spec or as a keyword."
                )
        return spec

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`relreps.relative_projection` this spec stands for."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def non_defaults(self) -> dict[str, Any]:
        """The options that differ from their defaults (what the repr shows)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not _agree(f.name, getattr(self, f.name), f.default)
        }

    # --- JSON -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every option (similarities by registry name).

        Raises:
            ValueError: a similarity that is not the registry's entry of its name (an unregistered
                or re-parametrised :class:`relreps.Similarity` cannot be named in JSON).
        """
        sims = self.similarity if isinstance(self.similarity, tuple) else (self.similarity,)
        names = [_registered_name(s) for s in sims]
        power = self.power
        if power is not None:
            power = int(power) if isinstance(power, numbers.Integral) else float(power)
        return {
            "similarity": names if isinstance(self.similarity, tuple) else names[0],
            "center": self.center,
            "aggregate": self.aggregate,
            "topk": self.topk,
            "power": power,
            "chunk_size": self.chunk_size,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProjectionSpec:
        """The spec of :meth:`to_dict`'s output; missing keys take their defaults.

        Raises:
            TypeError: ``data`` is not a mapping.
            ValueError: unknown keys (listed), or bad values.
        """
        if not isinstance(data, Mapping):
            raise fail("data", "a dict of projection options", type(data).__name__, TypeError)
        names = _field_names()
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise fail("data", f"a dict with keys among {list(names)}", f"unknown keys {unknown}")
        return cls(**dict(data))

    def __repr__(self) -> str:
        shown = {"similarity": self.similarity, **self.non_defaults()}
        args = ", ".join(f"{name}={_show(value)}" for name, value in shown.items())
        return f"ProjectionSpec({args})"


def _field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(ProjectionSpec))


def _agree(name: str, value: Any, reference: Any) -> bool:
    """Do two values of option ``name`` mean the same projection?"""
    if name == "similarity":
        if isinstance(value, str | Similarity) != isinstance(reference, str | Similarity):
            return False  # one similarity against a list of them
        try:
            mine, theirs = resolve_similarities(value), resolve_similarities(reference)
        except (TypeError, ValueError):
            return False
        return len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs, strict=True))
    if value is None or reference is None:
        return value is reference
    if isinstance(value, str) or isinstance(reference, str):
        return isinstance(value, str) and isinstance(reference, str) and value == reference
    try:
        return bool(value == reference)
    except (TypeError, ValueError):
        return False


def _registered_name(similarity: str | Similarity) -> str:
    if isinstance(similarity, str):
        return similarity
    try:
        registered = get_similarity(similarity.name)
    except ValueError:
        registered = None
    if registered is not similarity:
        raise fail(
            "similarity",
            "registry similarities to write a spec to JSON (register this one first with "
            "relreps.register_similarity, under its own name)",
            f"an unregistered or re-parametrised Similarity {similarity.name!r}",
        )
    return similarity.name


def _show(value: Any) -> str:
    if isinstance(value, Similarity):
        return f"<Similarity {value.name!r}>"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)
