"""Result types shared by the experiments and the report: tables, figures and numeric verdicts.

They sit in the core layer (standard library only) so that :mod:`relreps.report` renders them and
:mod:`relreps.experiments` builds them without either importing the other.

A verdict is a number against a threshold, never prose: :func:`judge` compares a measured figure
with the claim's threshold (and an optional "partly" threshold) and records both, beside the
paper's figure when there is one. :func:`kept_fraction` is the figure every stitching claim uses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "Claim",
    "ExperimentResult",
    "Figure",
    "Status",
    "Table",
    "Verdict",
    "jsonable",
    "judge",
    "kept_fraction",
    "mean_std",
    "mean_std_text",
    "rounded",
]

Status = Literal["reproduced", "partly", "not reproduced", "skipped", "no paper number"]
Comparison = Literal[">=", "<="]


def jsonable(value: Any) -> Any:
    """Floats that JSON cannot hold (NaN, inf) become None; numpy scalars become Python ones.

    Example:
        >>> jsonable({"a": float("nan"), "b": (1, 2.5)})
        {'a': None, 'b': [1, 2.5]}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Table:
    """A result table. ``rows`` hold strings, numbers or None (shown as a dash)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Table:
        return cls(
            title=data["title"],
            columns=tuple(data["columns"]),
            rows=tuple(tuple(r) for r in data["rows"]),
            note=data.get("note", ""),
        )


@dataclass(frozen=True)
class Figure:
    """A figure written into the run folder; ``path`` is relative to that folder."""

    path: str
    caption: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper and what our run found.

    Attributes:
        claim: the claim, in one line.
        status: the outcome.
        detail: the figures behind it, for people.
        quantity: the name of the judged figure (``"kept fraction"``); empty for a prose-only
            verdict (skipped claims).
        measured: the judged figure of this run.
        threshold: the figure ``measured`` is compared with for "reproduced".
        comparison: ``">="`` (higher is better) or ``"<="``.
        partly: a looser threshold for "partly" (None: no "partly" outcome).
        paper: the paper's figure of the same quantity, when it gives one.
    """

    claim: str
    status: Status
    detail: str
    quantity: str = ""
    measured: float | None = None
    threshold: float | None = None
    comparison: Comparison = ">="
    partly: float | None = None
    paper: float | None = None

    @property
    def rule(self) -> str:
        """The rule with its figures.

        Example:
            >>> judge("c", "kept fraction", 0.97, 0.9, paper=0.853).rule
            'kept fraction = 0.970 (reproduced at >= 0.900; paper 0.853)'
        """
        if self.measured is None or self.threshold is None:
            return ""
        measured = "n/a" if math.isnan(self.measured) else f"{self.measured:.3f}"
        text = f"{self.quantity} = {measured} (reproduced at {self.comparison} {self.threshold:.3f}"
        if self.partly is not None:
            text += f", partly at {self.comparison} {self.partly:.3f}"
        if self.paper is not None:
            text += f"; paper {self.paper:.3f}"
        return text + ")"

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if fields.get("measured") is None and data.get("threshold") is not None:
            fields["measured"] = math.nan  # stored as null: NaN does not survive JSON
        return cls(**fields)


def judge(
    claim: str,
    quantity: str,
    measured: float,
    threshold: float,
    *,
    comparison: Comparison = ">=",
    partly: float | None = None,
    paper: float | None = None,
    detail: str = "",
) -> Verdict:
    """Judge one claim: ``measured`` against ``threshold`` (and ``partly``), as data.

    "reproduced" when the measured figure meets the threshold, "partly" when it meets only
    ``partly``, else "not reproduced" (also when it is NaN: nothing was measured).

    Args:
        claim: the claim, in one line.
        quantity: what ``measured`` is (``"kept fraction"``).
        measured: this run's figure.
        threshold: the bar for "reproduced".
        comparison: ``">="`` when higher is better, ``"<="`` when lower is.
        partly: the bar for "partly", looser than ``threshold``; None for none.
        paper: the paper's figure of the same quantity.
        detail: the figures behind ``measured``, for people; the rule is appended.

    Returns:
        A :class:`Verdict` holding the threshold and the measured figure.

    Raises:
        ValueError: an unknown comparison, a non-finite threshold, or a ``partly`` bar stricter
            than ``threshold``.

    Example:
        >>> v = judge("Relative heads stitch", "kept fraction", 0.93, 0.90, partly=0.75)
        >>> v.status, v.rule
        ('reproduced', 'kept fraction = 0.930 (reproduced at >= 0.900, partly at >= 0.750)')
        >>> judge("Absolute fails", "F1 above chance", 31.0, 10.0, comparison="<=").status
        'not reproduced'
    """
    if comparison not in (">=", "<="):
        raise ValueError(f"Expected `comparison` to be '>=' or '<=', but got {comparison!r}.")
    if not math.isfinite(threshold):
        raise ValueError(f"Expected `threshold` to be a finite number, but got {threshold!r}.")
    higher = comparison == ">="

    def meets(bar: float) -> bool:
        return measured >= bar if higher else measured <= bar

    if partly is not None and (partly > threshold if higher else partly < threshold):
        raise ValueError(
            f"Expected `partly` to be looser than `threshold` ({comparison} {threshold}), "
            f"but got {partly}."
        )
    measured = float(measured)
    status: Status
    if math.isnan(measured):
        status = "not reproduced"
    elif meets(threshold):
        status = "reproduced"
    elif partly is not None and meets(partly):
        status = "partly"
    else:
        status = "not reproduced"
    verdict = Verdict(
        claim,
        status,
        detail,
        quantity=quantity,
        measured=measured,
        threshold=float(threshold),
        comparison=comparison,
        partly=None if partly is None else float(partly),
        paper=None if paper is None else float(paper),
    )
    rule = verdict.rule
    return replace(verdict, detail=f"{detail}; {rule}" if detail else rule)


@dataclass(frozen=True)
class Claim:
    """A paper claim as data: what is measured and the bar it must meet.

    Experiments declare their claims as module constants and judge each with this run's figure,
    so the thresholds live in one visible place, beside the claim they decide.

    Attributes:
        claim: the claim, in one line.
        quantity: what the measured figure is (``"kept fraction"``).
        threshold: the bar for "reproduced".
        comparison: ``">="`` when higher is better, ``"<="`` when lower is.
        partly: the looser bar for "partly", or None.
        paper: the paper's figure of the same quantity, or None.

    Example:
        >>> KEEPS = Claim("Relative heads stitch", "kept fraction", 0.90, partly=0.75)
        >>> KEEPS.judge(0.8).status
        'partly'
    """

    claim: str
    quantity: str
    threshold: float
    comparison: Comparison = ">="
    partly: float | None = None
    paper: float | None = None

    def judge(self, measured: float, *, detail: str = "", paper: float | None = None) -> Verdict:
        """This run's verdict (see :func:`judge`); ``paper`` overrides the claim's own figure."""
        return judge(
            self.claim,
            self.quantity,
            measured,
            self.threshold,
            comparison=self.comparison,
            partly=self.partly,
            paper=self.paper if paper is None else paper,
            detail=detail,
        )

    def skipped(self, reason: str) -> Verdict:
        """The verdict when the figure could not be measured in this run."""
        return Verdict(self.claim, "skipped", reason)


def kept_fraction(stitched: float, not_stitched: float, *, higher_is_better: bool = True) -> float:
    """How much of the not-stitched score stitching keeps: the stitching claims' figure.

    ``stitched / not_stitched`` for scores (F1, accuracy), ``not_stitched / stitched`` for errors
    (MSE): 1.0 means stitching lost nothing. NaN when a score is NaN or the denominator is not
    positive.

    Example:
        >>> round(kept_fraction(80.0, 84.0), 3)
        0.952
        >>> round(kept_fraction(2.2, 2.0, higher_is_better=False), 3)
        0.909
    """
    top, bottom = (stitched, not_stitched) if higher_is_better else (not_stitched, stitched)
    if math.isnan(top) or math.isnan(bottom) or bottom <= 0:
        return math.nan
    return float(top / bottom)


def rounded(value: float | None, digits: int = 2) -> float | None:
    """A table cell: ``value`` rounded to ``digits``; None (a dash) when None or not finite.

    Example:
        >>> rounded(0.12345, 3), rounded(float("nan")), rounded(None)
        (0.123, None, None)
    """
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def mean_std(values: Any) -> tuple[float, float]:
    """Mean and population std of the finite values in ``values`` (NaN, NaN when there are none).

    ``values`` is anything ``numpy.asarray`` reads as floats, of any shape (it is flattened).

    Example:
        >>> mean_std([1.0, 3.0, float("nan")])
        (2.0, 1.0)
    """
    import numpy as np  # lazily: this module is read by the report without numpy work

    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std())


def mean_std_text(mean: float | None, std: float | None, digits: int = 2) -> str | None:
    """The paper's cell format ``"m ± s"``, or None (a dash) when the mean is undefined.

    Example:
        >>> mean_std_text(81.234, 1.5), mean_std_text(float("nan"), 0.0)
        ('81.23 ± 1.50', None)
    """
    if mean is None or not math.isfinite(mean):
        return None
    return f"{mean:.{digits}f} ± {(std if std is not None else math.nan):.{digits}f}"


@dataclass(frozen=True)
class ExperimentResult:
    """Everything a report needs about one experiment run."""

    name: str
    title: str
    paper_ref: str
    config: Mapping[str, Any]
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    wall_time_s: float | None = None
    skipped_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "name": self.name,
                "title": self.title,
                "paper_ref": self.paper_ref,
                "config": dict(self.config),
                "tables": [t.to_dict() for t in self.tables],
                "figures": [f.to_dict() for f in self.figures],
                "verdicts": [v.to_dict() for v in self.verdicts],
                "data": dict(self.data),
                "wall_time_s": self.wall_time_s,
                "skipped_reason": self.skipped_reason,
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentResult:
        return cls(
            name=data["name"],
            title=data["title"],
            paper_ref=data["paper_ref"],
            config=data.get("config", {}),
            tables=tuple(Table.from_dict(t) for t in data.get("tables", [])),
            figures=tuple(Figure(**f) for f in data.get("figures", [])),
            verdicts=tuple(Verdict.from_dict(v) for v in data.get("verdicts", [])),
            data=data.get("data", {}),
            wall_time_s=data.get("wall_time_s"),
            skipped_reason=data.get("skipped_reason"),
        )
