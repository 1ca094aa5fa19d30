"""What the word-embeddings experiment compares: its names, the paper's numbers (:data:`PAPER`),
the space ids and labels, :class:`Comparison` (one ordered pair) and :class:`WordEmbeddingsConfig`
(everything that defines a run, with the full and quick presets)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from relreps._validation import check_choice, check_int, fail
from relreps.datasets.word2vec import CorpusSpec

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
    "strategies": {
        "uniform": 0.38,
        "fps": 0.38,
        "kmeans": 0.39,
        "top-1000": 0.30,
        "top-5000": 0.36,
        "top-10000": 0.37,
    },
}

# The spaces trained here (id -> label) and the pairs of the paper's questions.
REFERENCE = "w2v"
TRAINED_LABELS = {
    "w2v": "Word2Vec CBOW seed a",
    "w2v-b": "Word2Vec CBOW seed b",
    "w2v-sg": "Word2Vec skip-gram seed c",
    "ft": "FastText CBOW",
}
PRETRAINED_LABELS = {
    "glove": "GloVe 6B 50d",
    "minilm": "MiniLM-L6 word pieces",
    "wordllama": "WordLlama tokens",
}
PAIR_QUESTIONS = {
    "w2v-b": "same algorithm, different seed",
    "ft": "FastText vs Word2Vec",
    "w2v-sg": "CBOW vs skip-gram",
    "glove": "trained vs pretrained",
    "minilm": "trained vs pretrained",
    "wordllama": "trained vs pretrained",
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
    """Everything that defines a run of the experiment.

    Attributes:
        corpus: the training text (a :class:`~relreps.datasets.word2vec.CorpusSpec`).
        dim: vector size of the trained models.
        epochs: training passes.
        min_count: words seen fewer times are not trained.
        workers: gensim threads (1 for bit-exact reruns, see :mod:`relreps.datasets.word2vec`).
        bucket: FastText character n-gram buckets.
        pretrained: pretrained spaces to compare with (``glove``, ``minilm``, ``wordllama``).
        n_words: at most this many shared words (20,000 in the paper).
        skip_most_frequent: the most frequent shared words dropped (400).
        min_length: shortest word kept (4).
        n_anchors: anchors per draw (300).
        n_seeds: anchor draws per strategy (10).
        strategies: anchor strategies for the FastText <-> Word2Vec pair (all pairs run uniform).
        ks: neighbourhood sizes (5 and 10).
        n_queries: words used as queries per cell (a fixed random sample; ``None`` = every
            word). The searched index is always the whole vocabulary.
        seed: base seed: models are trained with seeds ``seed`` and ``seed + 1``; anchor draw
            ``i`` uses ``seed + i``.
        quick: the reduced variant.
        cache_dir: where trained vectors are kept (default: the relreps cache dir).
    """

    corpus: Any = None
    dim: int = 300
    epochs: int = 5
    min_count: int = 5
    workers: int = 2
    bucket: int = 500_000
    pretrained: tuple[str, ...] = ("glove", "minilm", "wordllama")
    n_words: int = 20_000
    skip_most_frequent: int = 400
    min_length: int = 4
    n_anchors: int = 300
    n_seeds: int = 10
    strategies: tuple[str, ...] = STRATEGIES
    ks: tuple[int, ...] = (5, 10)
    n_queries: int | None = 2_000
    seed: int = 0
    quick: bool = False
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        if self.corpus is None:
            object.__setattr__(self, "corpus", CorpusSpec())
        elif not isinstance(self.corpus, CorpusSpec):
            raise fail("corpus", "a CorpusSpec", type(self.corpus).__name__, TypeError)
        ints = (
            "dim",
            "epochs",
            "min_count",
            "workers",
            "bucket",
            "n_words",
            "n_anchors",
            "n_seeds",
        )
        for name in ints:
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
            check_choice(name, "pretrained", tuple(PRETRAINED_LABELS))
        if not self.ks or any(check_int(k, "ks", low=1) >= self.n_words for k in self.ks):
            raise fail("ks", "neighbourhood sizes in [1, n_words)", repr(self.ks))

    @classmethod
    def full(cls, *, seed: int = 0, n_seeds: int = 10) -> WordEmbeddingsConfig:
        """The documented full run: 300-d models on GCIDE + WordNet, 20k words, 10 draws."""
        return cls(seed=seed, n_seeds=n_seeds)

    @classmethod
    def quick_variant(cls, *, seed: int = 0, n_seeds: int = 2) -> WordEmbeddingsConfig:
        """CI's reduced run: 100-d models on the WordNet glosses only, 3,000 words, 2 draws."""
        return cls(
            corpus=CorpusSpec(gcide=False),
            dim=100,
            epochs=3,
            bucket=100_000,
            n_words=3_000,
            n_seeds=n_seeds,
            strategies=("uniform", "fps", "top-1000"),
            n_queries=None,
            seed=seed,
            quick=True,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-ready)."""
        data = asdict(self)
        data["corpus"] = asdict(self.corpus)
        return data

    def evaluation_key(self) -> str:
        """What the cached cells depend on besides the models."""
        return (
            f"w{self.n_words}/s{self.skip_most_frequent}/l{self.min_length}/a{self.n_anchors}"
            f"/q{self.n_queries}/k{','.join(map(str, self.ks))}/seed{self.seed}"
        )
