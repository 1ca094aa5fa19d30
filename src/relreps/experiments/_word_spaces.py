"""The word spaces trained for the experiments: now :mod:`relreps.datasets.word2vec` (re-export)."""

from relreps.datasets.word2vec import CorpusSpec, TrainingConfig, cached_word_vectors

__all__ = ["CorpusSpec", "TrainingConfig", "cached_word_vectors"]
