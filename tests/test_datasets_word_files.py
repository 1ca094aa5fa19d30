"""read_word_vectors: the one reader of word-vector files, against gensim and on broken files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from relreps.datasets import DataFormatError, WordVectors, read_word_vectors


def _write(path: Path, words: list[str], x: np.ndarray, header: bool = True) -> Path:
    lines = [f"{len(words)} {x.shape[1]}\n"] if header else []
    lines += [
        w + " " + " ".join(f"{v:.6f}" for v in row) + "\n" for w, row in zip(words, x, strict=True)
    ]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _random_space(n: int = 20, dim: int = 5) -> WordVectors:
    rng = np.random.default_rng(3)
    words = (*[f"w{i}" for i in range(n - 2)], "Straße", "naïve")
    return WordVectors("random", words, rng.normal(size=(n, dim)).astype(np.float32), "memory")


def test_text_binary_and_headerless_files_match_gensim(tmp_path):
    gensim = pytest.importorskip("gensim")
    wv = _random_space()
    kv = gensim.models.KeyedVectors(vector_size=wv.dim)
    kv.add_vectors(list(wv.words), wv.vectors)
    for binary, name in ((True, "v.bin"), (False, "v.vec")):
        kv.save_word2vec_format(str(tmp_path / name), binary=binary)
        ours = read_word_vectors(tmp_path / name)
        ref = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary)
        assert list(ours.words) == list(ref.index_to_key)
        np.testing.assert_allclose(ours.vectors, ref.vectors, rtol=1e-6)
    assert read_word_vectors(tmp_path / "v.bin", max_words=4).words == wv.words[:4]
    glove = tmp_path / "ours.txt"  # gensim reads a headerless GloVe file with no_header=True
    pairs = zip(wv.words, wv.vectors, strict=True)
    glove.write_text("".join(f"{w} {' '.join(map(repr, v.tolist()))}\n" for w, v in pairs))
    ref = gensim.models.KeyedVectors.load_word2vec_format(str(glove), no_header=True)
    np.testing.assert_allclose(read_word_vectors(glove).vectors, ref.vectors, rtol=1e-6)


def test_word2vec_glove_and_gzip_formats_agree(tmp_path):
    words = ["cat", "dog", "house"]
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    a = read_word_vectors(_write(tmp_path / "a.vec", words, x))
    b = read_word_vectors(_write(tmp_path / "b.txt", words, x, header=False))
    gz = tmp_path / "c.vec.gz"
    gz.write_bytes(gzip.compress((tmp_path / "a.vec").read_bytes()))
    c = read_word_vectors(gz, name="mine")
    for space in (a, b, c):
        assert space.words == tuple(words)
        np.testing.assert_allclose(space.vectors, x, atol=1e-6)
        assert space.frequency_ranked and space.vectors.dtype == np.float32
    assert c.name == "mine" and a.name == "a.vec" and a.source == str(tmp_path / "a.vec")


def test_text_variants_phrases_repeats_crlf_and_max_words(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text("the 0.1 0.2\ncat 1 2\nnew york 3 4\n\ncat 9 9\n")
    wv = read_word_vectors(glove)
    assert wv.words == ("the", "cat", "new york")  # phrase key; the later repeat is ignored
    np.testing.assert_allclose(wv.vectors[1:], [[1, 2], [3, 4]])
    assert read_word_vectors(glove, max_words=2).words == ("the", "cat")
    fasttext = tmp_path / "cc.vec.gz"
    with gzip.open(fasttext, "wt", encoding="utf-8") as f:
        f.write("2 3\nchat 1 2 3 \nchien 4 5 6 \n")  # fastText ends rows with a space
    ft = read_word_vectors(fasttext)
    assert ft.words == ("chat", "chien") and ft.dim == 3
    windows = tmp_path / "crlf.txt"
    windows.write_bytes(b"cat 1 2\r\ndog 3 4 \r\n")
    np.testing.assert_allclose(read_word_vectors(windows).vectors, [[1, 2], [3, 4]])


def test_binary_with_newlines_repeats_and_gzip(tmp_path):
    rows = np.arange(6, dtype="<f4").reshape(3, 2)
    words = (b"a", b"b", b"a")
    body = b"".join(w + b" " + r.tobytes() + b"\n" for w, r in zip(words, rows, strict=True))
    path = tmp_path / "v.bin.gz"
    path.write_bytes(gzip.compress(b"3 2\n" + body))
    wv = read_word_vectors(path)
    assert wv.words == ("a", "b")
    np.testing.assert_array_equal(wv.vectors, rows[:2])


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("2 3\ncat 1 0 0\ndog 0 1\n", r"line 3 .* a word and 3 numbers, but got 2 values"),
        ("cat 1 0 0\ndog 0 x 1\n", r"line 2 .* 3 numbers after the word"),
        ("cat 1 0 nan\n", r"finite numbers on line 1"),
        ("3 2\ncat 1 0\ndog 0 1\n", r"Expected 3 words .* truncated"),
        ("1 2\na 1 2\nb 1 2\n", r"Expected 1 words .* holds more rows"),
        (" 1 2\n", r"line 1 .* a word and 2 numbers"),
        ("", r"holds none"),
        ("lonely\n", r"line 1 .* a word and its numbers"),
    ],
)
def test_text_errors_name_the_line(tmp_path, content, match):
    path = tmp_path / "bad.vec"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=match):
        read_word_vectors(path)


def test_binary_errors_and_arguments(tmp_path):
    truncated = tmp_path / "t.bin"
    truncated.write_bytes(b"2 2\na " + np.ones(2, "<f4").tobytes() + b"\nb " + b"\x00\x01")
    with pytest.raises(DataFormatError, match=r"Expected 2 words .* read 1: the file is truncated"):
        read_word_vectors(truncated)
    extra = tmp_path / "e.bin"
    extra.write_bytes(
        b"1 2\na " + np.ones(2, "<f4").tobytes() + b"b " + np.ones(2, "<f4").tobytes()
    )
    with pytest.raises(DataFormatError, match="more bytes after them"):
        read_word_vectors(extra)
    headless = tmp_path / "h.bin"
    headless.write_bytes(b"a \x00\x00")
    with pytest.raises(DataFormatError, match="start with 'n_words dim'"):
        read_word_vectors(headless)
    with pytest.raises(DataFormatError, match="looks binary: pass format='binary'"):
        read_word_vectors(tmp_path / "t.bin", format="text")
    broken = tmp_path / "b.vec.gz"
    broken.write_bytes(gzip.compress(b"1 2\na 1 2\n")[:-6])
    with pytest.raises(DataFormatError, match="complete gzip file"):
        read_word_vectors(broken)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_word_vectors(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="Expected `format` to be one of"):
        read_word_vectors(truncated, format="fasttext")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected `max_words`"):
        read_word_vectors(truncated, max_words=0)
