"""Parallel anchors: building, mapping keys to rows per domain, JSON round trips, errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from relreps.anchors import AnchorRows, ParallelAnchors


def test_from_aligned_and_basic_properties() -> None:
    pa = ParallelAnchors.from_aligned(["cat", "dog", "eel"], ["chat", "chien", "anguille"])
    assert pa.domains == ("a", "b") and len(pa) == 3
    assert pa.keys == (("cat", "dog", "eel"), ("chat", "chien", "anguille"))
    assert repr(pa) == "ParallelAnchors(domains=('a', 'b'), n_anchors=3)"
    three = ParallelAnchors.from_aligned([1, 2], [3, 4], ["x", "y"], domains=["en", "fr", "de"])
    assert three.domains == ("en", "fr", "de") and three.keys[0] == (1, 2)


def test_numpy_keys_become_plain_python() -> None:
    pa = ParallelAnchors.from_aligned(np.array(["a", "b"]), np.array([4, 5]))
    assert pa.keys == (("a", "b"), (4, 5))
    assert type(pa.keys[0][0]) is str and type(pa.keys[1][0]) is int


def test_indices_map_keys_and_drop_missing() -> None:
    pa = ParallelAnchors.from_aligned(
        ["cat", "dog", "eel", "owl"], ["chat", "chien", "anguille", "hibou"], domains=("en", "fr")
    )
    en_vocab = ["owl", "the", "cat", "dog"]  # no "eel"
    fr_vocab = {"chien": 10, "chat": 11, "anguille": 12}  # no "hibou"
    rows = pa.indices(en_vocab, fr_vocab)
    assert isinstance(rows, AnchorRows)
    assert rows["en"].tolist() == [2, 3] and rows["fr"].tolist() == [11, 10]
    assert rows[0].dtype == np.int64 and rows.kept.tolist() == [0, 1]
    assert rows.missing == {"en": 1, "fr": 1} and rows.n_dropped == 2 and rows.n_kept == 2
    rows_en, rows_fr = rows  # unpacks in domain order
    assert rows_en.tolist() == [2, 3] and rows_fr.tolist() == [11, 10]
    assert json.loads(json.dumps(rows.to_dict()))["n_dropped"] == 2
    with pytest.raises(KeyError, match=r"Expected `domain` to be one of \['en', 'fr'\]"):
        rows["de"]


def test_indices_pick_matching_rows_of_real_arrays(rng) -> None:
    words = [f"w{i}" for i in range(30)]
    order_b = rng.permutation(30)
    vocab_b = [words[i] for i in order_b]
    emb_a = rng.normal(size=(30, 4))
    emb_b = emb_a[order_b]  # domain b stores the same words in another order
    pa = ParallelAnchors.from_shared_keys(words, vocab_b).subset([5, 17, 2])
    rows_a, rows_b = pa.indices(words, np.array(vocab_b))
    np.testing.assert_array_equal(emb_a[rows_a], emb_b[rows_b])


def test_strict_indices_raise_naming_missing_keys() -> None:
    pa = ParallelAnchors.from_aligned(["cat", "dog"], ["chat", "chien"], domains=("en", "fr"))
    assert pa.indices(["dog", "cat"], ["chat", "chien"], strict=True).n_dropped == 0
    with pytest.raises(
        ValueError, match=r"1 anchors missing; per domain \{'en': 0, 'fr': 1\}.*chien"
    ):
        pa.indices(["cat", "dog"], ["chat"], strict=True)


def test_from_pairs_handles_one_to_many_none_and_many_to_one() -> None:
    pairs = {"bank": ["banque", "rive"], "shore": "rive", "sea": None, "coast": ["rive", "côte"]}
    pa = ParallelAnchors.from_pairs(pairs, domains=("en", "fr"))
    assert list(zip(*pa.keys, strict=True)) == [
        ("bank", "banque"),
        ("shore", "rive"),
        ("coast", "côte"),
    ]
    limited = ParallelAnchors.from_pairs(pairs, vocabularies=(["bank", "coast"], ["rive", "côte"]))
    assert list(zip(*limited.keys, strict=True)) == [("bank", "rive"), ("coast", "côte")]
    from_list = ParallelAnchors.from_pairs([(1, 10), (1, 11), (2, 10), (3, 12)])
    assert from_list.keys == ((1, 3), (10, 12))  # 2 -> 10 is taken by 1: greedy, in order


def test_from_shared_keys_keeps_first_vocabulary_order() -> None:
    pa = ParallelAnchors.from_shared_keys(
        ["the", "cat", "sat", "mat"], {"mat": 0, "cat": 1, "dog": 2}, ["mat", "cat"]
    )
    assert pa.domains == ("a", "b", "c") and pa.keys == (("cat", "mat"),) * 3


def test_subset_selects_positions() -> None:
    pa = ParallelAnchors.from_aligned(["a", "b", "c"], ["x", "y", "z"])
    assert pa.subset(np.array([2, 0])).keys == (("c", "a"), ("z", "x"))
    with pytest.raises(ValueError, match=r"Expected `positions` to be indices in \[0, 3\)"):
        pa.subset([3])
    with pytest.raises(ValueError, match=r"Expected `positions` to be distinct"):
        pa.subset([1, 1])


def test_json_round_trip_and_stable_format(tmp_path) -> None:
    pa = ParallelAnchors.from_aligned(["cat", "été"], [7, 8], domains=("words", "ids"))
    assert pa.to_dict() == {
        "format": "relreps.ParallelAnchors",
        "version": 1,
        "domains": ["words", "ids"],
        "keys": {"words": ["cat", "été"], "ids": [7, 8]},
    }
    assert ParallelAnchors.from_json(pa.to_json()) == pa
    assert ParallelAnchors.from_dict(json.loads(json.dumps(pa.to_dict()))) == pa
    path = pa.save(tmp_path / "anchors.json")
    assert ParallelAnchors.load(path) == pa
    assert os.listdir(tmp_path) == ["anchors.json"]  # no temporary file left behind
    assert json.loads(path.read_text(encoding="utf-8"))["keys"]["words"][1] == "été"


@pytest.mark.parametrize(
    ("key_lists", "kwargs", "error", "match"),
    [
        (
            (["a", "b", "a"], [1, 2, 3]),
            {},
            ValueError,
            r"keys of domain 'a'.*'a' at positions 0 and 2",
        ),
        ((["a", "b"], [1, 1]), {}, ValueError, r"keys of domain 'b'.*1 at positions 0 and 1"),
        ((["a", "b"], [1]), {}, ValueError, r"key lists of equal length.*\{'a': 2, 'b': 1\}"),
        ((["a"],), {}, ValueError, r"Expected `domains` to be two or more"),
        (([], []), {}, ValueError, r"Expected `keys` to be at least one anchor"),
        ((["a", 1.5], [1, 2]), {}, TypeError, r"str or int keys.*1.5 \(float\) at position 1"),
        ((["a", True], [1, 2]), {}, TypeError, r"str or int keys"),
        ((["a"], [1]), {"domains": ("x", "x")}, ValueError, r"distinct domain names"),
        ((["a"], [1]), {"domains": ("x",)}, ValueError, r"Expected `domains` to be 2 domain names"),
        (("ab", [1, 2]), {}, TypeError, r"Expected `keys\[0\]` to be a list of keys"),
    ],
)
def test_from_aligned_rejects_bad_correspondences(key_lists, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        ParallelAnchors.from_aligned(*key_lists, **kwargs)


def test_vocabulary_errors() -> None:
    pa = ParallelAnchors.from_aligned(["a"], ["b"])
    with pytest.raises(ValueError, match=r"vocabularies\[1\] \(domain 'b'\)`.*'b' at rows 0 and 2"):
        pa.indices(["a"], ["b", "c", "b"])
    with pytest.raises(ValueError, match=r"one vocabulary per domain \['a', 'b'\]"):
        pa.indices(["a"])
    with pytest.raises(ValueError, match=r"non-negative int rows.*'b': -1"):
        pa.indices(["a"], {"b": -1})
    with pytest.raises(TypeError, match=r"sequence of keys or a \{key: row\} mapping"):
        pa.indices(["a"], "b")
    with pytest.raises(ValueError, match=r"unique keys.*'x' at rows 0 and 1"):
        ParallelAnchors.from_shared_keys(["x", "x"], ["x"])
    with pytest.raises(ValueError, match=r"at least one key shared by all"):
        ParallelAnchors.from_shared_keys(["x"], ["y"])


def test_from_pairs_errors() -> None:
    with pytest.raises(ValueError, match=r"Expected `pairs` to be at least one usable"):
        ParallelAnchors.from_pairs({"a": None})
    with pytest.raises(TypeError, match=r"values that are a key, a list of keys or None"):
        ParallelAnchors.from_pairs({"a": {"b"}})
    with pytest.raises(ValueError, match=r"\(source, target\) pairs.*position 0"):
        ParallelAnchors.from_pairs([("a", "b", "c")])
    with pytest.raises(TypeError, match=r"a mapping or an iterable"):
        ParallelAnchors.from_pairs(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(source keys, target keys\) pair"):
        ParallelAnchors.from_pairs({"a": "b"}, vocabularies=(["a"],))  # type: ignore[arg-type]


def test_from_dict_and_json_errors() -> None:
    good = ParallelAnchors.from_aligned(["a"], ["b"]).to_dict()
    with pytest.raises(ValueError, match=r"format 'relreps.ParallelAnchors' version 1.*version 2"):
        ParallelAnchors.from_dict({**good, "version": 2})
    with pytest.raises(ValueError, match=r"'keys' for exactly the domains"):
        ParallelAnchors.from_dict({**good, "keys": {"a": ["a"]}})
    with pytest.raises(ValueError, match=r"'domains' \(list\) and 'keys' \(dict\)"):
        ParallelAnchors.from_dict({**good, "domains": "ab"})
    with pytest.raises(TypeError, match=r"Expected `data` to be a dict"):
        ParallelAnchors.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected `text` to be JSON.*unreadable"):
        ParallelAnchors.from_json("{not json")


def test_top_level_name() -> None:
    import relreps

    assert relreps.ParallelAnchors is ParallelAnchors
    assert relreps.anchors.ParallelAnchors is ParallelAnchors


def test_constructor_checks_its_fields() -> None:
    assert ParallelAnchors(("x", "y"), (["a"], ["b"])).keys == (("a",), ("b",))
    with pytest.raises(TypeError, match=r"Expected `keys` to be one key list per domain"):
        ParallelAnchors(("x", "y"), 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"one key list per domain \(2\).*3 lists"):
        ParallelAnchors(("x", "y"), (["a"], ["b"], ["c"]))
    with pytest.raises(ValueError, match=r"Expected `domains` to be names for the 27 domains"):
        ParallelAnchors.from_aligned(*[[i] for i in range(27)])
