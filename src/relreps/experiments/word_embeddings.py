"""Word embeddings (paper section 5.1, Table 1 analogue): are two word spaces comparable?

The paper's FastText / Word2Vec files cannot be downloaded here, so the spaces are TRAINED here
(:mod:`relreps.datasets.word2vec`, on text Debian ships), beside three pretrained spaces that ship
in Python packages; :func:`run_on_files` compares a user's own vector files the same way.
Protocol, verdict rules and results: ``docs/experiments/word-embeddings.md``. This module holds
the config and picks the spaces and their shared words; ``_word_compare`` computes the scores and
``_word_report`` the tables, verdicts and figures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from relreps._validation import check_choice, check_int, fail
from relreps.datasets.pretrained_words import PRETRAINED_WORD_SPACES
from relreps.datasets.word2vec import CorpusSpec
from relreps.experiments.base import (
    REQUIRES_GCIDE,
    REQUIRES_GENSIM,
    REQUIRES_WORDNET,
    ExperimentResult,
    ExperimentSpec,
    RunContext,
)

__all__ = [
    "FULL",
    "PAPER",
    "QUICK",
    "SPEC",
    "STRATEGIES",
    "Comparison",
    "WordEmbeddingsConfig",
    "run",
    "run_experiment",
    "run_on_files",
]

NAME = "word-embeddings"
TITLE = (
    "Word embeddings: Word2Vec/FastText trained here and pretrained spaces, compared by retrieval"
)
PAPER_REF = "paper 5.1 / Table 1 analogue"
STRATEGIES = ("uniform", "fps", "kmeans", "top-1000", "top-5000", "top-10000")

#: The paper's numbers at k=5 (Table 1, uniform anchors): (Jaccard, MRR, cosine).
PAPER: dict[str, Any] = {
    "ft->w2v": {"absolute": (0.00, 0.00, 0.01), "relative": (0.38, 0.93, 0.86)},
    "w2v->ft": {"relative": (0.44, 0.97, 0.86)},
    "strategies": dict(zip(STRATEGIES, (0.38, 0.38, 0.39, 0.30, 0.36, 0.37), strict=True)),
}

# The spaces trained here (id -> label) and the pairs of the paper's questions.
REFERENCE = "w2v"
TRAINED_LABELS = {
    "w2v": "Word2Vec CBOW seed a",
    "w2v-b": "Word2Vec CBOW seed b",
    "w2v-sg": "Word2Vec skip-gram seed c",
    "ft": "FastText CBOW",
}
PAIR_QUESTIONS = {
    "w2v-b": "same algorithm, different seed",
    "ft": "FastText vs Word2Vec",
    "w2v-sg": "CBOW vs skip-gram",
    **dict.fromkeys(PRETRAINED_WORD_SPACES, "trained vs pretrained"),
}


@dataclass(frozen=True)
class Comparison:
    """One ordered pair of spaces and what to measure on it.

    Attributes:
        source: space whose vectors are the queries.
        target: space searched.
        vocabulary: id of the shared word list the pair is evaluated on.
        strategies: anchor strategies to run.
        centred_strategies: strategies also run with anchor-centred relative vectors.
    """

    source: str
    target: str
    vocabulary: str
    strategies: tuple[str, ...] = ("uniform",)
    centred_strategies: tuple[str, ...] = ("uniform",)

    @property
    def key(self) -> str:
        return f"{self.source}->{self.target}"

    @property
    def settings(self) -> tuple[tuple[str, str], ...]:
        """The (strategy, centring) runs of the pair: every strategy plain, some also centred."""
        return tuple(
            (s, centring)
            for s in self.strategies
            for centring in ("plain", "centred")
            if centring == "plain" or s in self.centred_strategies
        )


@dataclass(frozen=True)
class WordEmbeddingsConfig:
    """Everything that defines a run of the experiment (:data:`FULL`, :data:`QUICK`)."""

    corpus: Any = None  # the training text (a CorpusSpec)
    dim: int = 300  # vector size of the trained models
    epochs: int = 5  # training passes
    min_count: int = 5  # words seen fewer times are not trained
    workers: int = 2  # gensim threads (1 for bit-exact reruns, see relreps.datasets.word2vec)
    bucket: int = 500_000  # FastText character n-gram buckets
    pretrained: tuple[str, ...] = ("glove", "minilm", "wordllama")  # pretrained spaces compared
    n_words: int = 20_000  # at most this many shared words (20,000 in the paper)
    skip_most_frequent: int = 400  # the most frequent shared words dropped
    min_length: int = 4  # shortest word kept
    n_anchors: int = 300  # anchors per draw
    n_seeds: int = 10  # anchor draws per strategy
    #: anchor strategies for the FastText <-> Word2Vec and seed pairs (all pairs run uniform)
    strategies: tuple[str, ...] = STRATEGIES
    ks: tuple[int, ...] = (5, 10)  # neighbourhood sizes
    #: words used as queries per cell (a fixed random sample; ``None`` = every word); the
    #: searched index is always the whole vocabulary
    n_queries: int | None = 2_000
    #: base seed: models are trained with seeds ``seed``, ``seed + 1`` (CBOW seed b) and
    #: ``seed + 2`` (skip-gram); anchor draw ``i`` uses ``seed + i``
    seed: int = 0
    quick: bool = False  # the reduced variant
    cache_dir: str | None = None  # where trained vectors are kept (default: relreps cache dir)

    def __post_init__(self) -> None:
        if self.corpus is None:
            object.__setattr__(self, "corpus", CorpusSpec())
        elif not isinstance(self.corpus, CorpusSpec):
            raise fail("corpus", "a CorpusSpec", type(self.corpus).__name__, TypeError)
        positive = "dim epochs min_count workers bucket n_words n_anchors n_seeds".split()
        for name in positive:
            check_int(getattr(self, name), name, low=1)
        check_int(self.skip_most_frequent, "skip_most_frequent", low=0)
        check_int(self.min_length, "min_length", low=1)
        check_int(self.seed, "seed", low=0)
        if self.n_queries is not None:
            check_int(self.n_queries, "n_queries", low=1)
        for strategy in self.strategies:
            check_choice(strategy, "strategies", STRATEGIES)
        if "uniform" not in self.strategies:
            raise fail("strategies", "a tuple including 'uniform'", repr(self.strategies))
        for name in self.pretrained:
            check_choice(name, "pretrained", tuple(PRETRAINED_WORD_SPACES))
        if not self.ks or any(check_int(k, "ks", low=1) >= self.n_words for k in self.ks):
            raise fail("ks", "neighbourhood sizes in [1, n_words)", repr(self.ks))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready; ``asdict`` turns the corpus into a dict too)."""
        return asdict(self)

    def evaluation_key(self) -> str:
        """What the cached cells depend on besides the models."""
        return (
            f"w{self.n_words}/s{self.skip_most_frequent}/l{self.min_length}/a{self.n_anchors}"
            f"/q{self.n_queries}/k{','.join(map(str, self.ks))}/seed{self.seed}"
        )


#: The documented full run: 300-d models on GCIDE + WordNet, 20k words, 10 draws.
FULL = WordEmbeddingsConfig()
#: CI's reduced run: 100-d models on the WordNet glosses only, 3,000 words, 2 draws.
QUICK = WordEmbeddingsConfig(
    corpus=CorpusSpec(gcide=False),
    dim=100,
    epochs=3,
    bucket=100_000,
    n_words=3_000,
    n_seeds=2,
    strategies=("uniform", "fps", "top-1000"),
    n_queries=None,
    quick=True,
)


def _preset(context: RunContext) -> WordEmbeddingsConfig:
    return replace(context.sized(QUICK, FULL, seeds_field="n_seeds"), seed=context.seed)


def run(context: RunContext) -> ExperimentResult:
    """``relreps reproduce word-embeddings``: the trained + pretrained spaces (or, when
    ``--word-vectors`` names vector files, those files)."""
    files = list(context.selection.word_vectors)
    if files:
        return _files_experiment(files, None, context, _preset(context))
    return run_experiment(context, _preset(context))


def _info(label: str, kind: str, space: Any, trained: Any = None) -> dict[str, Any]:
    """The spaces table's facts about one space (``trained``: its TrainedSpace, if trained)."""
    return {
        "label": label,
        "kind": kind,
        "dim": space.dim,
        "n_words": len(space),
        "train_seconds": None if trained is None else round(trained.train_seconds, 1),
        "from_cache": None if trained is None else trained.from_cache,
    }


def _trained_spaces(
    config: WordEmbeddingsConfig, log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The four models trained here (id -> WordVectors) and their info; cached ones are reused."""
    from relreps.datasets.word2vec import TrainingConfig, cached_word_spaces

    fields = ("dim", "epochs", "min_count", "workers", "bucket", "seed")
    base = TrainingConfig(**{name: getattr(config, name) for name in fields})
    plans = {
        "w2v": base,
        "w2v-b": replace(base, seed=config.seed + 1),
        # A seed of its own: with the same seed CBOW and skip-gram start from the same vectors.
        "w2v-sg": replace(base, architecture="skipgram", seed=config.seed + 2),
        "ft": replace(base, algorithm="fasttext"),
    }
    trained = cached_word_spaces(
        config.corpus, plans, cache_dir=config.cache_dir, log=lambda s: log(f"[{NAME}] {s}")
    )
    info = {
        space_id: {
            **_info(TRAINED_LABELS[space_id], "trained here", got.vectors, got),
            "training": plans[space_id].to_dict(),
        }
        for space_id, got in trained.items()
    }
    return {k: v.vectors for k, v in trained.items()}, info


def _pretrained_spaces(
    names: Sequence[str], log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The pretrained spaces that load (id -> WordVectors) and their info; others are logged."""
    from relreps.datasets.pretrained_words import load_pretrained_words

    spaces, missing = load_pretrained_words(names)
    for name, why in missing.items():
        log(f"[{NAME}] {PRETRAINED_WORD_SPACES[name]} is not available, left out: {why}")
    info = {
        n: _info(PRETRAINED_WORD_SPACES[n], "pretrained (package)", s) for n, s in spaces.items()
    }
    return spaces, info


def _shared_words(
    vocab_id: str,
    spaces: Sequence[Any],
    order: Sequence[str],
    context: RunContext,
    config: WordEmbeddingsConfig,
) -> tuple[str, ...]:
    """The words all ``spaces`` share, in ``order``, after the paper's filter; too few for the
    anchors and the largest k raise."""
    from relreps.datasets.words import shared_vocabulary

    words = shared_vocabulary(
        *spaces,
        frequency_order=order,
        max_words=config.n_words,
        skip_most_frequent=config.skip_most_frequent,
        min_length=config.min_length,
        min_words=max(config.n_anchors, max(config.ks) + 1),
    )
    context.log(f"[{NAME}] vocabulary {vocab_id}: {len(words):,} shared words")
    return words


def _strategies(config: WordEmbeddingsConfig, n_words: int) -> tuple[str, ...]:
    """The configured strategies whose top-N pool fits the vocabulary."""
    from relreps.anchors.strategies import top_pool

    return tuple(s for s in config.strategies if (top_pool(s) or 0) <= n_words)


def run_experiment(context: RunContext, config: WordEmbeddingsConfig) -> ExperimentResult:
    """Train (or reuse) the spaces, compare every pair, and build the result.

    Args:
        context: where to write figures and cached cells, and how to log.
        config: the protocol (:data:`FULL`, :data:`QUICK` or your own).

    Returns:
        The :class:`~relreps.experiments.base.ExperimentResult` (tables, figures, verdicts and
        every cell's raw scores in ``data``).

    Raises:
        DataNotFoundError: the corpus files are missing (the message names the Debian package).
        ImportError: gensim is missing.
    """
    if not isinstance(config, WordEmbeddingsConfig):
        raise fail("config", "a WordEmbeddingsConfig", type(config).__name__, TypeError)
    config.corpus.files()  # fail early, naming the Debian package, before anything is trained
    trained, info = _trained_spaces(config, context.log)
    pretrained, pre_info = _pretrained_spaces(config.pretrained, context.log)
    spaces, info = {**trained, **pretrained}, {**info, **pre_info}
    ref, order = trained[REFERENCE], trained[REFERENCE].words  # corpus frequency order
    members = {"trained": list(trained.values())}
    members |= {f"{REFERENCE}+{name}": [ref, space] for name, space in pretrained.items()}
    vocabularies = {v: _shared_words(v, m, order, context, config) for v, m in members.items()}
    strategies = _strategies(config, len(vocabularies["trained"]))
    comparisons = [
        Comparison("ft", REFERENCE, "trained", strategies),
        Comparison(REFERENCE, "ft", "trained", strategies),
        # The strategies also run where relative retrieval works here (see the docs).
        Comparison(REFERENCE, "w2v-b", "trained", strategies),
        Comparison("w2v-b", REFERENCE, "trained", strategies),
        Comparison(REFERENCE, "w2v-sg", "trained"),
        Comparison("w2v-sg", REFERENCE, "trained"),
    ]
    for name in pretrained:
        comparisons.append(Comparison(REFERENCE, name, f"{REFERENCE}+{name}"))
        comparisons.append(Comparison(name, REFERENCE, f"{REFERENCE}+{name}"))
    model_key = ",".join(f"{k}={v.get('training', {}).get('seed', '-')}" for k, v in info.items())
    model_key = f"{config.corpus.sources}/{config.dim}d/e{config.epochs}/{model_key}"
    from relreps.experiments._word_compare import Evaluation
    from relreps.experiments._word_report import build_result

    ev = Evaluation(spaces, vocabularies, comparisons, REFERENCE, config, context, model_key)
    return build_result(ev, info, (REFERENCE, "w2v-b", "ft"))


def run_on_files(
    path_a: str | os.PathLike[str],
    path_b: str | os.PathLike[str],
    *more: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    names: Sequence[str] | None = None,
    quick: bool = False,
    seeds: int | None = None,
    seed: int = 0,
    max_words: int | None = 500_000,
    log: Callable[[str], None] = print,
) -> ExperimentResult:
    """The same experiment on your own word-vector files.

    Reads each file (:func:`relreps.datasets.read_word_vectors`: word2vec / fastText / GloVe,
    text or binary, ``.gz`` allowed), takes the words all of them share in the FIRST file's order
    (such files list words by corpus frequency), applies the paper's filter, and scores every
    ordered pair; all anchor strategies run on the first two files.

    Args:
        path_a: the first vector file (its order is the frequency order).
        path_b: the second vector file.
        *more: further files.
        output_dir: run folder for figures and the resumable cell cache.
        names: a name per file (default ``space-a``, ``space-b``, ...).
        quick: the reduced protocol (3,000 words, 2 draws, 3 strategies).
        seeds: anchor draws (default 10, 2 with ``quick``).
        seed: base seed of the anchor draws.
        max_words: read at most this many words from each file.
        log: status lines.

    Returns:
        An :class:`~relreps.experiments.base.ExperimentResult`.

    Raises:
        FileNotFoundError: a file does not exist.
        DataFormatError: a file is binary, empty, ragged or holds non-numbers (line named).
        ValueError: too few shared words for the anchors.

    Example (two files of your own)::

        result = run_on_files("a.vec", "b.vec", output_dir="run", quick=True)
        result.data["summary"]["space-a->space-b|relative-plain|uniform"]["jaccard@5"]
    """
    context = RunContext(Path(output_dir), quick=quick, seeds=seeds, seed=seed, log=log)
    config = replace(_preset(context), pretrained=())
    return _files_experiment([path_a, path_b, *more], names, context, config, max_words)


def _files_experiment(
    paths: Sequence[str | os.PathLike[str]],
    names: Sequence[str] | None,
    context: RunContext,
    config: WordEmbeddingsConfig,
    max_words: int | None = None,
) -> ExperimentResult:
    """Read the vector files and compare every ordered pair (see :func:`run_on_files`)."""
    from relreps.datasets import read_word_vectors

    if len(paths) < 2:
        raise fail("paths", "two or more word-vector files", f"{len(paths)}")
    ids = list(names) if names is not None else [f"space-{chr(97 + i)}" for i in range(len(paths))]
    if len(ids) != len(paths) or len(set(ids)) != len(ids):
        raise fail("names", f"{len(paths)} distinct names", repr(names))
    spaces, info = {}, {}
    for space_id, path in zip(ids, paths, strict=True):
        spaces[space_id] = space = read_word_vectors(path, name=space_id, max_words=max_words)
        context.log(f"[{NAME}] {space_id}: {len(space):,} words x {space.dim} from {path}")
        info[space_id] = _info(space_id, f"file {Path(path).name}", space)
    first = ids[0]
    vocab = _shared_words("files", list(spaces.values()), spaces[first].words, context, config)
    strategies = _strategies(config, len(vocab))
    # Every anchor strategy on the first two files (both directions), uniform on the rest.
    comparisons = [
        Comparison(a, b, "files", strategies if {a, b} == {first, ids[1]} else ("uniform",))
        for a in ids
        for b in ids
        if a != b
    ]
    sizes = ",".join(
        f"{i}:{Path(p).resolve()}:{os.path.getsize(p)}" for i, p in zip(ids, paths, strict=True)
    )
    from relreps.experiments._word_compare import Evaluation
    from relreps.experiments._word_report import build_result

    model_key = f"files/{sizes}/{max_words}"
    ev = Evaluation(spaces, {"files": vocab}, comparisons, first, config, context, model_key)
    result = build_result(ev, info, ids[:3])
    return replace(result, config={**result.config, "files": [str(p) for p in paths]})


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=(REQUIRES_GENSIM, REQUIRES_GCIDE, REQUIRES_WORDNET),
    run=run,
)
