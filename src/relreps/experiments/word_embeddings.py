"""Word embeddings (paper section 5.1, Table 1 analogue): are two word spaces comparable?

The paper retrieved words across FastText and Word2Vec vectors trained on web corpora. Those
files cannot be downloaded here, so the spaces are TRAINED here with gensim on a real English
corpus that Debian ships (the GCIDE dictionary plus the WordNet glosses, ~5.7M tokens), beside
three pretrained spaces that ship in Python packages (GloVe 6B 50-d, MiniLM word pieces,
WordLlama tokens). The same protocol compares a user's own vector files
(:func:`run_on_files`, or ``relreps reproduce word-embeddings --word-vectors a.vec ...``).

Protocol (BRIEF.md experiment 1): the shared vocabulary ordered by corpus frequency, minus the 400
most frequent words, alphabetic, at least 4 letters, at most 20,000 words; 300 anchor words chosen
by each strategy (uniform, farthest-point, k-means, uniform among the top-1000/5000/10000),
10 anchor draws; for each ordered pair (source, target) and each word: Jaccard@k of the word's own
k-neighbourhood in the target space and the k-neighbourhood its source vector retrieves there,
MRR@k of the word itself among those k, and the mean cosine of the paired vectors; in absolute
coordinates (only where the dimensions agree) and in relative coordinates, plain and
anchor-centred. Neighbours are exact cosine k-NN over the whole vocabulary.

This module is the entry point (:func:`run`, :func:`run_experiment`, :func:`run_on_files`,
:data:`SPEC`); the parts live in private siblings, re-exported here where public:
``_word_protocol`` (names, the paper's numbers, :class:`Comparison`,
:class:`WordEmbeddingsConfig`), ``_word_spaces`` (training and reading vectors), ``_word_lineup``
(the spaces a run compares and their shared words), ``_word_compare`` (the retrieval scores),
``_word_report`` and ``_word_figures`` (tables, verdicts, figures) and ``_word_files`` (the
vector-files variant).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from relreps._validation import fail
from relreps.experiments._word_compare import retrieval_from_neighbours
from relreps.experiments._word_files import files_experiment
from relreps.experiments._word_lineup import (
    check_vocabulary,
    pretrained_spaces,
    shared_words,
    trained_spaces,
)
from relreps.experiments._word_protocol import (
    NAME,
    PAPER,
    PAPER_REF,
    REFERENCE,
    STRATEGIES,
    TITLE,
    Comparison,
    WordEmbeddingsConfig,
)
from relreps.experiments._word_report import build_result
from relreps.experiments.base import ExperimentResult, ExperimentSpec, Requirement, RunContext

__all__ = [
    "PAPER",
    "SPEC",
    "STRATEGIES",
    "Comparison",
    "WordEmbeddingsConfig",
    "retrieval_from_neighbours",
    "run",
    "run_experiment",
    "run_on_files",
]


#: Environment variable holding two or more vector files (separated by ``os.pathsep``); when set,
#: ``relreps reproduce word-embeddings`` compares those files instead of training spaces.

SPEC_REQUIREMENTS = (
    Requirement("gensim", "pip install gensim", module="gensim"),
    Requirement(
        "GCIDE dictionary text", "apt-get install dict-gcide", path="/usr/share/dictd/gcide.dict.dz"
    ),
    Requirement(
        "WordNet glosses", "apt-get install wordnet-base", path="/usr/share/wordnet/data.noun"
    ),
)


def _preset(context: RunContext) -> WordEmbeddingsConfig:
    if context.quick:
        return WordEmbeddingsConfig.quick_variant(
            seed=context.seed, n_seeds=context.n_seeds(full=10, quick=2)
        )
    return WordEmbeddingsConfig.full(seed=context.seed, n_seeds=context.n_seeds(full=10, quick=2))


def run(context: RunContext) -> ExperimentResult:
    """``relreps reproduce word-embeddings``: the trained + pretrained spaces (or, when
    ``--word-vectors`` names vector files, those files)."""
    files = list(context.selection.word_vectors)
    if files:
        return files_experiment(files, None, context, _preset(context))
    return run_experiment(context, _preset(context))


def run_experiment(context: RunContext, config: WordEmbeddingsConfig) -> ExperimentResult:
    """Train (or reuse) the spaces, compare every pair, and build the result.

    Args:
        context: where to write figures and cached cells, and how to log.
        config: the protocol (:meth:`WordEmbeddingsConfig.full` or ``quick_variant``).

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
    trained, info = trained_spaces(config, context.log)
    pretrained, pre_info = pretrained_spaces(config.pretrained, context.log)
    spaces = {**trained, **pretrained}
    info = {**info, **pre_info}
    order = trained[REFERENCE].words  # corpus frequency order
    vocabularies = {"trained": shared_words(list(trained.values()), order, config)}
    for name in pretrained:
        vocabularies[f"{REFERENCE}+{name}"] = shared_words(
            [trained[REFERENCE], pretrained[name]], order, config
        )
    for vocab_id, words in vocabularies.items():
        check_vocabulary(vocab_id, words, config)
        context.log(f"[{NAME}] vocabulary {vocab_id}: {len(words):,} shared words")
    strategies = tuple(
        s
        for s in config.strategies
        if not s.startswith("top-") or int(s.split("-")[1]) <= len(vocabularies["trained"])
    )
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
    return build_result(
        spaces,
        info,
        vocabularies,
        comparisons,
        config,
        context,
        model_key,
        REFERENCE,
        (REFERENCE, "w2v-b", "ft"),
    )


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

    Reads each file (word2vec / fastText ``.vec`` text with an ``n dim`` header, or GloVe text
    without one; ``.gz`` allowed), takes the words all of them share in the FIRST file's order
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

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> folder = Path(tempfile.mkdtemp())
        >>> rng = np.random.default_rng(0)
        >>> words = [f"word{chr(97 + i)}{chr(97 + j)}" for i in range(26) for j in range(26)]
        >>> x = rng.normal(size=(len(words), 8))
        >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
        >>> for name, m in (("a.txt", x), ("b.txt", x @ q)):
        ...     _ = (folder / name).write_text(
        ...         "".join(w + " " + " ".join(map(str, r)) + "\\n" for w, r in zip(words, m)))
        >>> result = run_on_files(folder / "a.txt", folder / "b.txt", output_dir=folder / "run",
        ...                       quick=True, log=lambda s: None)  # doctest: +SKIP
    """
    context = RunContext(Path(output_dir), quick=quick, seeds=seeds, seed=seed, log=log)
    config = _preset(context)
    config = replace(config, pretrained=())
    return files_experiment([path_a, path_b, *more], names, context, config, max_words)


SPEC = ExperimentSpec(
    name=NAME,
    title=TITLE,
    paper_ref=PAPER_REF,
    requirements=SPEC_REQUIREMENTS,
    run=run,
)
