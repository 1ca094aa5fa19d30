"""Word vectors trained offline with gensim (Word2Vec / FastText), and a disk cache of them.

- :class:`CorpusSpec` names the training text: the GCIDE dictionary and the WordNet glosses that
  Debian ships (:func:`relreps.datasets.corpus.load_corpus`).
- :class:`TrainingConfig` + :func:`train_word_vectors` train one gensim model.
- :func:`cached_word_vectors` reads one model's vectors back from the cache or trains and caches
  them; :func:`cached_word_spaces` does it for several models, reading the corpus at most once.
  Entries are keyed by the corpus files, the hyper-parameters and the gensim version.

Determinism: gensim seeds its initial vectors and its sampling from ``seed``; with ``workers=1``
two runs give identical vectors. With more threads the order in which they update the shared
weights varies, so the vectors differ slightly between runs - the cache keeps the first ones.

Example:
    >>> import tempfile
    >>> text = [["red", "red", "red", "pear", "pear", "apple"]] * 50
    >>> wv = train_word_vectors(text, TrainingConfig(dim=8, epochs=1, min_count=1, workers=1))
    >>> wv.words, wv.vectors.shape
    (('red', 'pear', 'apple'), (3, 8))
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from relreps._io import atomic_write_bytes, atomic_write_text
from relreps._validation import check_choice, check_float, check_int, fail
from relreps.datasets.base import how_to_get, locate
from relreps.datasets.words import WordVectors

__all__ = [
    "CorpusSpec",
    "TrainedSpace",
    "TrainingConfig",
    "cached_word_spaces",
    "cached_word_vectors",
    "load_cached_word_vectors",
    "train_word_vectors",
    "word_vector_cache_dir",
]

PathLike = str | os.PathLike[str]
Algorithm = Literal["word2vec", "fasttext"]
Architecture = Literal["cbow", "skipgram"]

_SOURCES = {  # corpus -> (files, cache subdir, Debian folder, Debian package)
    "gcide": (("gcide.index", "gcide.dict.dz"), "dictd", "/usr/share/dictd", "dict-gcide"),
    "wordnet": (
        ("data.noun", "data.verb", "data.adj", "data.adv"),
        "wordnet",
        "/usr/share/wordnet",
        "wordnet-base",
    ),
}
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class CorpusSpec:
    """Which English text to train on.

    Attributes:
        gcide: include the GCIDE dictionary (Debian ``dict-gcide``, ~4.3M tokens).
        wordnet: include every WordNet gloss (Debian ``wordnet-base``, ~1.5M tokens).
        max_tokens: stop after this many tokens (whole paragraphs), ``None`` for all.
        gcide_path: folder holding ``gcide.index`` + ``gcide.dict.dz`` (default: the data cache
            dir, then ``/usr/share/dictd``).
        wordnet_path: the WordNet ``dict`` folder (default: the data cache dir, then
            ``/usr/share/wordnet``).

    Example:
        >>> CorpusSpec(gcide=False).sources
        ('wordnet',)
    """

    gcide: bool = True
    wordnet: bool = True
    max_tokens: int | None = None
    gcide_path: str | None = None
    wordnet_path: str | None = None

    def __post_init__(self) -> None:
        if not (self.gcide or self.wordnet):
            raise fail("gcide/wordnet", "at least one corpus switched on", "both False")
        if self.max_tokens is not None:
            check_int(self.max_tokens, "max_tokens", low=1)

    @property
    def sources(self) -> tuple[str, ...]:
        """The corpora used, in order."""
        return tuple(n for n, on in (("gcide", self.gcide), ("wordnet", self.wordnet)) if on)

    def files(self) -> list[Path]:
        """The data files the corpus is read from.

        Raises:
            DataNotFoundError: a file is missing; the message names the Debian package.
        """
        found = []
        for source in self.sources:
            names, subdir, system, package = _SOURCES[source]
            path = self.gcide_path if source == "gcide" else self.wordnet_path
            hint = how_to_get(apt=package)
            for name in names:
                found.append(
                    locate(name, subdir=subdir, path=path, system_dirs=(system,), hint=hint)
                )
        return found

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the text without reading it: sources, token cap, file names and sizes."""
        return {
            "sources": list(self.sources),
            "max_tokens": self.max_tokens,
            "files": [[p.name, p.stat().st_size] for p in self.files()],
        }

    def paragraphs(self) -> list[list[str]]:
        """The corpus as paragraphs of lower-case tokens (gensim's ``sentences``)."""
        from relreps.datasets.corpus import load_corpus

        self.files()  # a missing file fails here, naming its Debian package
        corpus = load_corpus(
            gcide=self.gcide,
            wordnet=self.wordnet,
            gcide_path=self.gcide_path,
            wordnet_path=self.wordnet_path,
        )
        if self.max_tokens is None:
            return corpus.paragraphs
        kept, total = [], 0
        for paragraph in corpus.paragraphs:
            if total >= self.max_tokens:
                break
            kept.append(paragraph)
            total += len(paragraph)
        return kept


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of one gensim model.

    Attributes:
        algorithm: ``"word2vec"`` or ``"fasttext"``.
        architecture: ``"cbow"`` or ``"skipgram"``.
        dim: vector size (300 in the paper).
        epochs: passes over the corpus.
        window: context window.
        min_count: ignore words seen fewer times.
        negative: negative samples per positive one.
        sample: down-sampling threshold of frequent words.
        seed: gensim's seed (initial vectors and sampling).
        workers: training threads (1 for bit-exact reruns).
        bucket: FastText's number of hashed character n-gram buckets.

    Example:
        >>> TrainingConfig("fasttext", "skipgram", seed=3).label
        'fasttext-skipgram-s3'
    """

    algorithm: Algorithm = "word2vec"
    architecture: Architecture = "cbow"
    dim: int = 300
    epochs: int = 5
    window: int = 5
    min_count: int = 5
    negative: int = 5
    sample: float = 1e-3
    seed: int = 0
    workers: int = 2
    bucket: int = 500_000

    def __post_init__(self) -> None:
        check_choice(self.algorithm, "algorithm", ("word2vec", "fasttext"))
        check_choice(self.architecture, "architecture", ("cbow", "skipgram"))
        for name in ("dim", "epochs", "window", "min_count", "negative", "workers", "bucket"):
            check_int(getattr(self, name), name, low=1)
        check_float(self.sample, "sample", low=0.0)
        check_int(self.seed, "seed", low=0)

    @property
    def label(self) -> str:
        """A short name: ``<algorithm>-<architecture>-s<seed>``."""
        return f"{self.algorithm}-{self.architecture}-s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class TrainedSpace:
    """A trained model's vectors and how they were obtained.

    Attributes:
        vectors: the words (most frequent first) and their (n_words, dim) vectors.
        config: the hyper-parameters.
        train_seconds: training wall time (of the run that trained it, if cached).
        from_cache: the vectors were read from the cache instead of trained now.
    """

    vectors: WordVectors
    config: TrainingConfig
    train_seconds: float
    from_cache: bool


def train_word_vectors(
    paragraphs: list[list[str]], config: TrainingConfig, *, name: str | None = None
) -> WordVectors:
    """Train one gensim model and return its word vectors, most frequent word first.

    Args:
        paragraphs: token lists (e.g. :meth:`CorpusSpec.paragraphs`).
        config: the hyper-parameters.
        name: the space's name (default ``config.label``).

    Returns:
        A ``frequency_ranked`` :class:`~relreps.datasets.words.WordVectors` of shape
        (n_words, config.dim): every word seen ``min_count`` times. FastText vectors are the
        full-word vectors (word vector plus its character n-grams).

    Raises:
        ImportError: gensim is not installed.
        ValueError: no token at all, or no word reaches ``min_count``.
    """
    if not isinstance(config, TrainingConfig):
        raise fail("config", "a TrainingConfig", type(config).__name__, TypeError)
    try:
        from gensim.models import FastText, Word2Vec
    except ImportError as err:
        raise ImportError(
            "training word vectors needs gensim: pip install gensim (or 'relreps[text]')"
        ) from err
    if not any(p for p in paragraphs[:10_000]):
        raise fail("paragraphs", "a non-empty list of token lists", "no tokens")
    common = dict(
        vector_size=config.dim,
        window=config.window,
        min_count=config.min_count,
        negative=config.negative,
        sample=config.sample,
        sg=1 if config.architecture == "skipgram" else 0,
        seed=config.seed,
        workers=config.workers,
        epochs=config.epochs,
    )
    try:
        if config.algorithm == "fasttext":
            model: Any = FastText(paragraphs, bucket=config.bucket, **common)
        else:
            model = Word2Vec(paragraphs, **common)
    except RuntimeError as err:  # gensim: "you must first build vocabulary before training"
        raise ValueError(
            f"Expected some word seen at least min_count={config.min_count} times, but gensim "
            f"could not build a vocabulary ({err})."
        ) from err
    words = tuple(model.wv.index_to_key)
    vectors = np.ascontiguousarray(model.wv.vectors, dtype=np.float32)
    return WordVectors(name or config.label, words, vectors, "gensim", frequency_ranked=True)


def word_vector_cache_dir() -> Path:
    """Where trained vectors are kept: ``<relreps cache dir>/word-vectors``.

    The relreps cache dir is ``$RELREPS_CACHE_DIR``, else the user's cache dir + ``relreps``
    (the folder of :func:`relreps.encoders.default_cache_dir`, resolved here the same way).

    Example:
        >>> word_vector_cache_dir().name
        'word-vectors'
    """
    configured = os.environ.get("RELREPS_CACHE_DIR")
    if configured:
        return Path(configured).expanduser() / "word-vectors"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "relreps" / "Cache" / "word-vectors"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "relreps" / "word-vectors"


def _entry(
    corpus: CorpusSpec, config: TrainingConfig, cache_dir: PathLike | None
) -> tuple[Path, dict[str, Any]]:
    import gensim

    key = {
        "format": _CACHE_FORMAT,
        "corpus": corpus.fingerprint(),
        "training": config.to_dict(),
        "gensim": gensim.__version__,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    root = Path(cache_dir) if cache_dir is not None else word_vector_cache_dir()
    return root / f"{config.label}-{digest}", key


def load_cached_word_vectors(
    corpus: CorpusSpec,
    config: TrainingConfig,
    *,
    cache_dir: PathLike | None = None,
    name: str | None = None,
) -> TrainedSpace | None:
    """The cached vectors of one model, or None when it was never trained (or the entry is
    damaged). See :func:`cached_word_vectors`.

    Example:
        >>> import tempfile
        >>> corpus, config = CorpusSpec(gcide=False), TrainingConfig()
        >>> load_cached_word_vectors(corpus, config, cache_dir=tempfile.mkdtemp()) is None
        True
    """
    folder, key = _entry(corpus, config, cache_dir)
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        if meta.get("key") != key:
            return None
        words = tuple(json.loads((folder / "words.json").read_text("utf-8")))
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        space = WordVectors(
            name or config.label, words, vectors, str(folder), frequency_ranked=True
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None  # absent or damaged: train again
    return TrainedSpace(space, config, float(meta.get("train_seconds", 0.0)), True)


def cached_word_vectors(
    corpus: CorpusSpec,
    config: TrainingConfig,
    *,
    cache_dir: PathLike | None = None,
    paragraphs: list[list[str]] | None = None,
    name: str | None = None,
) -> TrainedSpace:
    """The vectors of one model, read back from the cache or trained now (and cached).

    The cache entry is a folder named by the hash of (corpus files and sizes, hyper-parameters,
    gensim version) holding ``vectors.npy``, ``words.json`` and ``meta.json``; ``meta.json`` is
    written last, so a half-written entry is never read. Nothing is unpickled.

    Args:
        corpus: the training text.
        config: the hyper-parameters.
        cache_dir: where entries live (default :func:`word_vector_cache_dir`).
        paragraphs: the corpus already tokenised (read from ``corpus`` when needed otherwise).
        name: the space's name (default ``config.label``).

    Returns:
        A :class:`TrainedSpace`.

    Raises:
        DataNotFoundError: a corpus file is missing (the message names the Debian package).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for pos in ("noun", "verb", "adj", "adv"):
        ...     _ = (folder / f"data.{pos}").write_text("00001 03 n 01 cat 0 000 | small pet\\n")
        >>> corpus = CorpusSpec(gcide=False, wordnet_path=str(folder))
        >>> config = TrainingConfig(dim=4, epochs=1, min_count=1, workers=1)
        >>> text = [["small", "small", "pet"]] * 60
        >>> first = cached_word_vectors(corpus, config, cache_dir=folder, paragraphs=text)
        >>> again = cached_word_vectors(corpus, config, cache_dir=folder)
        >>> first.from_cache, again.from_cache, again.vectors.words
        (False, True, ('small', 'pet'))
    """
    found = load_cached_word_vectors(corpus, config, cache_dir=cache_dir, name=name)
    if found is not None:
        return found
    folder, key = _entry(corpus, config, cache_dir)
    if paragraphs is None:
        paragraphs = corpus.paragraphs()
    start = time.perf_counter()
    space = train_word_vectors(paragraphs, config, name=name)
    seconds = time.perf_counter() - start
    buffer = io.BytesIO()
    np.save(buffer, space.vectors, allow_pickle=False)
    atomic_write_bytes(folder / "vectors.npy", buffer.getvalue())
    atomic_write_text(folder / "words.json", json.dumps(list(space.words)))
    meta = {"key": key, "train_seconds": seconds, "n_words": len(space)}
    atomic_write_text(folder / "meta.json", json.dumps(meta))
    return TrainedSpace(space, config, seconds, False)


def cached_word_spaces(
    corpus: CorpusSpec,
    configs: Mapping[str, TrainingConfig],
    *,
    cache_dir: PathLike | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, TrainedSpace]:
    """Several models on one corpus (name -> config), cached; the corpus is read at most once.

    Each space is named by its key in ``configs``. The corpus is tokenised only when some model is
    not in the cache yet.

    Args:
        corpus: the training text.
        configs: space name -> hyper-parameters.
        cache_dir: where entries live (default :func:`word_vector_cache_dir`).
        log: status lines (reading the corpus, training a model, then each space's words and
            whether it came from the cache); ``None`` for silence.

    Returns:
        space name -> :class:`TrainedSpace`, in the order of ``configs``.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for pos in ("noun", "verb", "adj", "adv"):
        ...     _ = (folder / f"data.{pos}").write_text("00001 03 n 01 cat 0 000 | small pet\\n")
        >>> corpus = CorpusSpec(gcide=False, wordnet_path=str(folder))
        >>> base = TrainingConfig(dim=4, epochs=1, min_count=1, workers=1)
        >>> spaces = cached_word_spaces(corpus, {"a": base, "b": TrainingConfig(dim=4,
        ...     epochs=1, min_count=1, workers=1, seed=1)}, cache_dir=folder / "cache")
        >>> [(n, s.from_cache, s.vectors.name) for n, s in spaces.items()]
        [('a', False, 'a'), ('b', False, 'b')]
    """
    if not isinstance(configs, Mapping) or not configs:
        raise fail("configs", "a non-empty mapping of name -> TrainingConfig", repr(configs))
    say = log or (lambda _: None)
    paragraphs: list[list[str]] | None = None
    spaces = {}
    for name, config in configs.items():
        found = load_cached_word_vectors(corpus, config, cache_dir=cache_dir, name=name)
        if found is None:
            if paragraphs is None:
                say(f"reading the corpus ({', '.join(corpus.sources)}) ...")
                paragraphs = corpus.paragraphs()
                n_tokens = sum(len(p) for p in paragraphs)
                say(f"corpus: {len(paragraphs):,} paragraphs, {n_tokens:,} tokens")
            say(f"training {name} ({config.label}, {config.dim}-d) ...")
            found = cached_word_vectors(
                corpus, config, cache_dir=cache_dir, paragraphs=paragraphs, name=name
            )
        how = "cached" if found.from_cache else "trained"
        say(f"{name}: {len(found.vectors):,} words, {how} ({found.train_seconds:.0f} s to train)")
        spaces[name] = found
    return spaces
