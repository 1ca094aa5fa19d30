"""relreps.datasets.word2vec.cached_word_spaces logs each space's size and where it came from."""

from __future__ import annotations

from relreps.datasets.word2vec import CorpusSpec, TrainingConfig, cached_word_spaces


def test_each_space_is_logged_as_trained_then_cached(tmp_path):
    folder = tmp_path / "wordnet"
    folder.mkdir()
    for pos in ("noun", "verb", "adj", "adv"):
        (folder / f"data.{pos}").write_text("00001 03 n 01 cat 0 000 | small pet cat\n")
    corpus = CorpusSpec(gcide=False, wordnet_path=str(folder))
    configs = {"a": TrainingConfig(dim=4, epochs=1, min_count=1, workers=1)}
    first: list[str] = []
    spaces = cached_word_spaces(corpus, configs, cache_dir=tmp_path / "c", log=first.append)
    n_words = len(spaces["a"].vectors)
    assert first[-1].startswith(f"a: {n_words:,} words, trained (")
    again: list[str] = []
    cached_word_spaces(corpus, configs, cache_dir=tmp_path / "c", log=again.append)
    assert again == [first[-1].replace("trained (", "cached (")]
