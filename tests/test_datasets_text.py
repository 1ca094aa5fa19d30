"""Text loaders: WordNet, FreeDict, GCIDE corpus, phrase sets, the HF adapter and graphs."""

from __future__ import annotations

import gzip
import sys
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from relreps.datasets import (
    DataFormatError,
    DataNotFoundError,
    GraphDataset,
    PhraseSet,
    babel_names,
    emoji_names,
    freedict_anchors,
    freedict_entries,
    freedict_pairs,
    gcide_paragraphs,
    load_corpus,
    load_hf,
    load_planetoid,
    load_wordnet_glosses,
    random_split_masks,
    read_dictd,
    read_wordnet,
    strip_gcide_markup,
    tokenize,
    wordnet_gloss_paragraphs,
    wordnet_graph,
)

WORDNET = Path("/usr/share/wordnet/data.noun")
DICTD = Path("/usr/share/dictd")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELREPS_DATA_DIR", str(tmp_path / "cache"))


# ---------------------------------------------------------------- WordNet fixture

LICENCE = "  1 This software and database is being provided to you, the LICENSEE\n  2 \n"
NOUN_LINES = [
    # offset lexfile pos w_cnt words p_cnt pointers | gloss
    "00000100 03 n 01 entity 0 002 ~ 00000200 n 0000 ~ 00000300 n 0000 | that which exists",
    "00000200 05 n 02 dog 0 domestic_dog 0 003 @ 00000100 n 0000 ~i 00000400 n 0000 "
    '+ 00009999 v 0101 | a domesticated canid; "the dog barked"',
    "00000300 18 n 01 person 0 001 @ 00000100 n 0000 | a human being "
    '(as in "every person"): "a person of note"; "hi";',
    "00000400 05 n 01 Lassie 0 001 @i 00000200 n 0000 | a famous collie",
]


def write_wordnet(folder: Path, lines: list[str] = NOUN_LINES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.noun").write_text(LICENCE + "\n".join(lines) + "\n", encoding="utf-8")
    verb = "00009999 29 v 01 breathe 0 000 01 + 02 00 | draw air into the lungs\n"
    (folder / "data.verb").write_text(LICENCE + verb, encoding="utf-8")
    return folder


def test_read_wordnet_fixture(tmp_path: Path) -> None:
    folder = write_wordnet(tmp_path / "wn")
    synsets = read_wordnet("noun", path=folder)
    assert len(synsets) == 4
    assert synsets.offsets.tolist() == [100, 200, 300, 400]
    assert synsets.lemmas[1] == ("dog", "domestic dog")
    assert synsets.ids()[0] == "n:00000100"
    # hypernym pairs (hyponym, hypernym): @ and reversed ~ agree and appear once; verb pointer out
    assert synsets.hypernym_edges.tolist() == [[1, 0], [2, 0], [3, 1]]
    # parsed once and cached: callers share read-only arrays
    assert read_wordnet("noun", path=folder / "data.noun") is synsets
    with pytest.raises(ValueError, match="read-only"):
        synsets.offsets[0] = 7


def test_wordnet_glosses_fixture(tmp_path: Path) -> None:
    folder = write_wordnet(tmp_path / "wn")
    ds = load_wordnet_glosses(path=folder / "data.noun")
    assert ds.items == ("that which exists", "a domesticated canid",
                        'a human being (as in "every person")', "a famous collie")  # fmt: skip
    assert [ds.class_names[i] for i in ds.labels] == [
        "noun.Tops", "noun.animal", "noun.person", "noun.animal"
    ]  # fmt: skip
    assert ds.n_classes == 26 and ds.split == "all"
    full = load_wordnet_glosses(path=folder, examples=True)
    assert full.items[1] == 'a domesticated canid; "the dog barked"'
    verbs = load_wordnet_glosses("verb", path=folder)
    assert verbs.class_names[verbs.labels[0]] == "verb.body" and verbs.n_classes == 15


def test_wordnet_bad_line(tmp_path: Path) -> None:
    folder = write_wordnet(tmp_path / "wn", [*NOUN_LINES, "00000500 05 n 03 cat 0 | too few"])
    with pytest.raises(DataFormatError, match=r"line 7 of .* WordNet synset line"):
        read_wordnet(path=folder)


def test_wordnet_wrong_lexfile(tmp_path: Path) -> None:
    lines = [*NOUN_LINES, "00000500 30 n 01 cat 0 000 | a verb class in a noun file"]
    with pytest.raises(DataFormatError, match=r"lexicographer file number in \[3, 28\].* 30"):
        read_wordnet(path=write_wordnet(tmp_path / "wn", lines))


def test_wordnet_dangling_pointer(tmp_path: Path) -> None:
    lines = [*NOUN_LINES, "00000500 05 n 01 cat 0 001 @ 00000777 n 0000 | gone"]
    with pytest.raises(DataFormatError, match="00000500 -> 00000777 does not"):
        read_wordnet(path=write_wordnet(tmp_path / "wn", lines))


def test_wordnet_missing_says_apt(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="apt-get install wordnet-base"):
        read_wordnet(path=tmp_path)
    with pytest.raises(ValueError, match=r"Expected `pos` to be one of \['noun', 'verb'\]"):
        read_wordnet("adj")


def test_wordnet_graph_fixture(tmp_path: Path) -> None:
    g = wordnet_graph(path=write_wordnet(tmp_path / "wn"), seed=3, train_fraction=0.5)
    assert isinstance(g, GraphDataset) and g.n_nodes == 4
    assert g.edge_index().tolist() == [[1, 2, 3], [0, 0, 1]]
    assert g.texts is not None and g.texts[2] == 'a human being (as in "every person")'
    assert g.features is None and g.to_dict()["splits"] == {"train": 2, "val": 1, "test": 1}
    feats = np.arange(8, dtype=np.float32).reshape(4, 2)
    assert g.with_features(feats).to_dict()["n_features"] == 2
    with pytest.raises(ValueError, match="Expected `features` to be 4 rows"):
        g.with_features(feats[:3])


@pytest.mark.skipif(not WORDNET.is_file(), reason="Debian wordnet-base not installed")
def test_real_wordnet() -> None:
    ds = load_wordnet_glosses()
    assert len(ds) == 82115 and ds.n_classes == 26
    assert ds.class_names[ds.labels[0]] == "noun.Tops" and ds.ids[0] == "n:00001740"
    assert ds.items[0].startswith("that which is perceived or known or inferred")
    counts = ds.to_dict()["class_counts"]
    assert min(counts) > 0 and max(counts) == counts[ds.class_names.index("noun.artifact")]
    g = wordnet_graph()
    assert g.edges.shape == (84427, 2)  # 75,850 @ + 8,577 @i pointers, mirrored by ~ / ~i
    assert (g.edges[:, 0] != g.edges[:, 1]).all()


def test_random_split_masks_properties() -> None:
    m = random_split_masks(101, train_fraction=0.6, val_fraction=0.2, seed=7)
    total = m["train"].astype(int) + m["val"] + m["test"]
    assert (total == 1).all() and m["train"].sum() == 61 and m["val"].sum() == 20
    again = random_split_masks(101, train_fraction=0.6, val_fraction=0.2, seed=7)
    assert all((m[k] == again[k]).all() for k in m)
    with pytest.raises(ValueError, match="Expected `val_fraction` to be a finite number in"):
        random_split_masks(10, train_fraction=0.9, val_fraction=0.2)
    with pytest.raises(ValueError, match=r"Expected `n_nodes` to be an int in \[1, inf\]"):
        random_split_masks(0)


def test_graph_dataset_validation() -> None:
    with pytest.raises(ValueError, match=r"Expected `edges` to be node indices in \[0, 1\]"):
        GraphDataset("g", ("a", "b"), np.array([[0, 2]]), np.array([0, 0]), ("x",))
    with pytest.raises(ValueError, match=r"Expected `edges` to be an \(n_edges, 2\) integer"):
        GraphDataset("g", ("a", "b"), np.array([0, 1]), np.array([0, 0]), ("x",))
    with pytest.raises(ValueError, match=r"Expected `labels` to be a \(2,\) integer array"):
        GraphDataset("g", ("a", "b"), np.zeros((0, 2), int), np.array([0]), ("x",))
    with pytest.raises(ValueError, match="Expected `texts` to be 2 strings"):
        GraphDataset("g", ("a", "b"), np.zeros((0, 2), int), np.array([0, 0]), ("x",), texts=("t",))
    with pytest.raises(ValueError, match=r"Expected `masks\['train'\]` to be a \(2,\) bool"):
        GraphDataset(
            "g", ("a", "b"), np.zeros((0, 2), int), np.array([0, 0]), ("x",),
            masks={"train": np.array([1, 0])},
        )  # fmt: skip


# ---------------------------------------------------------------- Planetoid (fixture loader)


def test_planetoid_with_injected_loader(tmp_path: Path) -> None:
    import torch

    data = SimpleNamespace(
        x=torch.eye(3),
        edge_index=torch.tensor([[0, 1, 1], [1, 0, 2]]),
        y=torch.tensor([0, 2, 1]),
        train_mask=torch.tensor([True, False, False]),
        val_mask=torch.tensor([False, True, False]),
        test_mask=torch.tensor([False, False, True]),
    )
    seen = []

    def loader(root: str, name: str) -> SimpleNamespace:
        seen.append((root, name))
        return data

    g = load_planetoid("Cora", root=tmp_path, loader=loader)
    assert seen == [(str(tmp_path), "Cora")]
    assert g.edges.tolist() == [[0, 1], [1, 0], [1, 2]] and g.labels.tolist() == [0, 2, 1]
    assert g.features is not None and g.features.dtype == np.float32
    assert g.to_dict()["splits"] == {"train": 1, "val": 1, "test": 1} and len(g.class_names) == 3
    assert len(g.undirected_edges()) == 4


def test_planetoid_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"Expected `name` to be one of \['Cora', 'CiteSeer'"):
        load_planetoid("cora")
    monkeypatch.setitem(sys.modules, "torch_geometric", None)
    monkeypatch.setitem(sys.modules, "torch_geometric.datasets", None)
    with pytest.raises(ImportError, match="pip install torch_geometric"):
        load_planetoid("Cora")

    def offline(root: str, name: str) -> None:
        raise urllib.error.URLError("no network")

    with pytest.raises(
        DataNotFoundError, match=r"Could not load Planetoid PubMed .* Run once online"
    ):
        load_planetoid("PubMed", loader=offline)


# ---------------------------------------------------------------- dictd / FreeDict / GCIDE


def b64(value: int) -> str:
    digits = ""
    while True:
        digits = B64[value % 64] + digits
        value //= 64
        if value == 0:
            return digits


def write_dictd(folder: Path, stem: str, entries: list[tuple[str, str]]) -> None:
    """A dictd pair written independently of the reader (index sorted as dictfmt does)."""
    folder.mkdir(parents=True, exist_ok=True)
    blob, lines = b"", ["00databaseinfo\tA\tB"]
    blob += b"i\n"
    for head, text in entries:
        raw = text.encode("utf-8")
        lines.append(f"{head}\t{b64(len(blob))}\t{b64(len(raw))}")
        blob += raw
    (folder / f"{stem}.dict.dz").write_bytes(gzip.compress(blob))
    (folder / f"{stem}.index").write_text("\n".join(lines) + "\n", encoding="utf-8")


FREEDICT = [
    ("abacus", "abacus /æbəkəs/\n1. abaque\n2. boulier\n"),
    ("abandon", "abandon /əbændən/\n1. abdiquer\n2. abandonner, délaisser\n"),
    ("a lot", "a lot /əlɔt/\nbeaucoup\n"),
    ("easter", "Easter /iːstər/\nPâques, jour de Pâques\n"),
]


def test_read_dictd_roundtrip(tmp_path: Path) -> None:
    write_dictd(tmp_path, "d", [("x", "first entry\n"), ("y", "second, été\n")])
    assert read_dictd(tmp_path / "d.index", tmp_path / "d.dict.dz") == [
        ("x", "first entry\n"), ("y", "second, été\n")
    ]  # fmt: skip


def test_read_dictd_errors(tmp_path: Path) -> None:
    write_dictd(tmp_path, "d", [("x", "entry\n")])
    index, data = tmp_path / "d.index", tmp_path / "d.dict.dz"
    index.write_text("x\tC\tZZZ\n")
    with pytest.raises(DataFormatError, match=r"lie inside .* ends at byte"):
        read_dictd(index, data)
    index.write_text("x\tC!\tB\n")
    with pytest.raises(DataFormatError, match=r"base64 number in line 1 .* 'C!'"):
        read_dictd(index, data)
    index.write_text("x only\n")
    with pytest.raises(DataFormatError, match="headword<TAB>offset<TAB>length"):
        read_dictd(index, data)
    data.write_bytes(data.read_bytes()[:-6])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        read_dictd(index, data)


def test_freedict_fixture(tmp_path: Path) -> None:
    write_dictd(tmp_path, "freedict-eng-fra", FREEDICT)
    entries = dict(freedict_entries(path=tmp_path))
    assert entries["abacus"] == ("abaque", "boulier")
    assert entries["Easter"] == ("Pâques", "jour de Pâques")
    pairs = freedict_pairs(path=tmp_path)
    assert pairs == [
        ("abacus", "abaque"), ("abacus", "boulier"), ("abandon", "abdiquer"),
        ("abandon", "abandonner"), ("abandon", "délaisser"), ("easter", "pâques"),
    ]  # fmt: skip
    first = freedict_pairs(path=tmp_path, first_translation_only=True, lowercase=False)
    assert first == [("abacus", "abaque"), ("abandon", "abdiquer"), ("Easter", "Pâques")]
    everything = freedict_pairs(path=tmp_path, single_words=False)
    assert ("a lot", "beaucoup") in everything and ("easter", "jour de pâques") in everything


def test_freedict_anchors_fixture(tmp_path: Path) -> None:
    from relreps.anchors import ParallelAnchors

    write_dictd(tmp_path, "freedict-eng-fra", FREEDICT)
    anchors = freedict_anchors(path=tmp_path)
    assert isinstance(anchors, ParallelAnchors) and anchors.domains == ("eng", "fra")
    assert anchors.keys == (("abacus", "abandon", "easter"), ("abaque", "abdiquer", "pâques"))
    limited = freedict_anchors(path=tmp_path, vocabularies=(["abacus"], ["boulier"]))
    assert limited.keys == (("abacus",), ("boulier",))


def test_freedict_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected `pair` to be a FreeDict language pair"):
        freedict_entries("english")
    with pytest.raises(DataNotFoundError, match="apt-get install dict-freedict-deu-eng"):
        freedict_entries("deu-eng", path=tmp_path)


@pytest.mark.skipif(
    not (DICTD / "freedict-eng-fra.index").is_file(), reason="Debian dict-freedict-eng-fra absent"
)
def test_real_freedict() -> None:
    entries = freedict_entries()
    assert len(entries) == 8799  # 8,805 index lines less the 6 metadata entries
    pairs = freedict_pairs()
    assert ("abacus", "abaque") in pairs and len(pairs) > 4000
    assert all(a.isalpha() and b.isalpha() for a, b in pairs)


GCIDE = [
    ("Coagulate", 'Coagulate \\Co*ag"u*late\\, v. t. [L. coagulatus.]\n   To curdle; as,'
     " rennet coagulates {milk}.\n   [1913 Webster]\n\n   Syn: To thicken; clot.\n"),
    ("Curd", "Curd \\Curd\\, n.\n   The thick part of milk; na[i^]ve cr[`e]me.\n"),
]  # fmt: skip


def test_strip_markup_and_tokenize() -> None:
    text = strip_gcide_markup(GCIDE[0][1])
    assert "\\" not in text and "[" not in text and "{" not in text and "Webster" not in text
    assert tokenize(text) == [
        "coagulate", "v", "t", "to", "curdle", "as", "rennet", "coagulates", "milk", "syn", "to",
        "thicken", "clot",
    ]  # fmt: skip
    assert tokenize(strip_gcide_markup("na[i^]ve cr[`e]me [ae]on")) == ["naive", "creme", "aeon"]


def test_gcide_and_corpus_fixture(tmp_path: Path) -> None:
    write_dictd(tmp_path / "dictd", "gcide", [*GCIDE, ("Coagulated", GCIDE[0][1])])
    paragraphs = gcide_paragraphs(path=tmp_path / "dictd")
    assert len(paragraphs) == 3  # the shared block is read once; blank lines split paragraphs
    assert paragraphs[1] == ["syn", "to", "thicken", "clot"]
    wn = write_wordnet(tmp_path / "wn")
    glosses = wordnet_gloss_paragraphs(path=wn, parts_of_speech=("noun", "verb"))
    assert glosses[0] == ["that", "which", "exists"] and len(glosses) == 5
    corpus = load_corpus(gcide_path=tmp_path / "dictd", wordnet_path=tmp_path / "wn", wordnet=False)
    assert corpus.sources == ("gcide",) and corpus.n_tokens == sum(map(len, paragraphs))
    counts = corpus.word_counts()
    assert next(iter(counts)) == "to" and counts["to"] == 2
    assert list(corpus.word_counts(min_count=2).items()) == [("to", 2), ("milk", 2)]
    assert corpus.to_dict()["n_paragraphs"] == 3
    # equal tokens share one string object (memory on a 6M-token corpus)
    both = load_corpus(
        gcide_path=tmp_path / "dictd", wordnet_path=wn, wordnet_parts_of_speech=("noun", "verb")
    )
    assert both.sources == ("gcide", "wordnet")
    the = [t for p in both.paragraphs for t in p if t == "the"]
    assert len(the) == 3 and all(t is the[0] for t in the)


def test_corpus_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one source switched on"):
        load_corpus(gcide=False, wordnet=False)
    with pytest.raises(ValueError, match="Expected `parts_of_speech` to be a non-empty tuple"):
        wordnet_gloss_paragraphs(parts_of_speech=("nouns",))
    with pytest.raises(DataNotFoundError, match="apt-get install dict-gcide"):
        gcide_paragraphs(path=tmp_path)


@pytest.mark.skipif(not (DICTD / "gcide.dict.dz").is_file(), reason="Debian dict-gcide absent")
def test_real_gcide_corpus() -> None:
    paragraphs = gcide_paragraphs()
    n_tokens = sum(map(len, paragraphs))
    assert 4_000_000 < n_tokens < 5_000_000
    webster = sum(p.count("webster") for p in paragraphs)
    assert webster < 1000  # ~205,000 "[1913 Webster]" source notes are stripped


# ---------------------------------------------------------------- phrase sets


def test_emoji_names() -> None:
    ps = emoji_names(("en", "fr", "de"))
    assert len(ps) > 3000 and ps.languages == ("en", "fr", "de")
    pairs = dict(zip(ps.keys, ps.pairs("en", "fr"), strict=True))
    assert pairs["\N{DOG FACE}"] == ("dog face", "tête de chien")
    with pytest.raises(ValueError, match="Expected `languages` to be a non-empty tuple of codes"):
        emoji_names(("xx",))


def test_babel_names() -> None:
    ps = babel_names("territories", ("en", "fr"))
    assert ps.phrases["en"][ps.keys.index("DE")] == "Germany"
    assert all(k.isalpha() for k in ps.keys)
    langs = babel_names("languages", ("en", "de"))
    assert langs.phrases["de"][langs.keys.index("fr")] == "Französisch"
    with pytest.raises(ValueError, match="Expected `kind` to be one of"):
        babel_names("cities")
    with pytest.raises(ValueError, match="Expected `languages` to be CLDR locale codes"):
        babel_names("territories", ("en", "zz-nope"))


def test_phrase_set_validation() -> None:
    with pytest.raises(ValueError, match=r"Expected `phrases\['fr'\]` to be 2 phrases"):
        PhraseSet("p", ("a", "b"), {"en": ("x", "y"), "fr": ("x",)}, "m")
    ps = PhraseSet("p", ("a",), {"en": ("x",)}, "m")
    with pytest.raises(ValueError, match=r"Expected `target` to be one of \['en'\]"):
        ps.pairs("en", "fr")
    assert ps.to_dict() == {"name": "p", "n_keys": 1, "languages": ["en"], "source": "m"}


def test_phrase_set_to_parallel_anchors() -> None:
    ps = PhraseSet(
        "p", ("a", "b", "c", "d"),
        {"en": ("one", "two", "two", "four"), "fr": ("un", "deux", "deux", "quatre"),
         "de": ("eins", "zwei", "zwo", "vier")},
        "m",
    )  # fmt: skip
    every = ps.to_parallel_anchors()  # "two" repeats in en and "deux" in fr: b and c drop out
    assert every.domains == ("en", "fr", "de")
    assert every.keys == (("one", "four"), ("un", "quatre"), ("eins", "vier"))
    german = ps.to_parallel_anchors(["de", "en"])
    assert german.keys == (("eins", "vier"), ("one", "four"))
    clash = PhraseSet("p", ("a", "b"), {"en": ("x", "x"), "fr": ("y", "z")}, "m")
    with pytest.raises(ValueError, match="at least one anchor"):
        clash.to_parallel_anchors()
    with pytest.raises(ValueError, match=r"Expected `languages` to be languages among \['en'"):
        ps.to_parallel_anchors(["en", "ja"])


# ---------------------------------------------------------------- Hugging Face adapter


class FakeClassLabel:
    def __init__(self, names: list[str]) -> None:
        self.names = names


class FakeTable:
    """The slice of a ``datasets.Dataset`` the adapter uses: column_names, [col], features."""

    def __init__(self, columns: dict[str, list[object]], features: dict[str, object]) -> None:
        self._columns = columns
        self.column_names = list(columns)
        self.features = features

    def __getitem__(self, column: str) -> list[object]:
        return self._columns[column]


def test_hf_ag_news_mapping() -> None:
    calls = []

    def loader(repo: str, config: str | None, split: str) -> FakeTable:
        calls.append((repo, config, split))
        table = {"text": ["Stocks rise", "Team wins"], "label": [2, 1]}
        return FakeTable(table, {"label": FakeClassLabel(["W", "S", "B", "T"])})

    ds = load_hf("ag_news", "test[:2]", loader=loader)
    assert calls == [("fancyzhx/ag_news", None, "test[:2]")]
    assert ds.items == ("Stocks rise", "Team wins") and ds.labels.tolist() == [2, 1]
    assert ds.class_names == ("W", "S", "B", "T") and ds.ids == ("test[:2]/0", "test[:2]/1")


def test_hf_dbpedia_joins_title_and_content_and_falls_back_to_known_names() -> None:
    def loader(repo: str, config: str | None, split: str) -> FakeTable:
        return FakeTable({"title": ["Rome"], "content": ["A city."], "label": [8]}, {})

    ds = load_hf("dbpedia14", loader=loader)
    assert ds.items == ("Rome. A city.",) and ds.class_names[ds.labels[0]] == "Village"


def test_hf_amazon_language_and_star_offset() -> None:
    def loader(repo: str, config: str | None, split: str) -> FakeTable:
        assert (repo, config) == ("my/mirror", "fr")
        return FakeTable(
            {"review_id": ["fr_1", "fr_2"], "review_title": ["Bien", ""],
             "review_body": ["Très bien", "Nul"], "stars": [5, 1]},
            {},
        )  # fmt: skip

    ds = load_hf("amazon_reviews_multi", language="fr", hub_name="my/mirror", loader=loader)
    assert ds.labels.tolist() == [4, 0] and ds.ids == ("fr_1", "fr_2")
    assert ds.items == ("Bien. Très bien", "Nul") and ds.name == "amazon_reviews_multi-fr"
    with pytest.raises(ValueError, match=r"Expected `language` to be one of \['de', 'en'"):
        load_hf("amazon_reviews_multi", loader=loader)
    with pytest.raises(ValueError, match="Expected `language` to be None"):
        load_hf("trec", language="en", loader=loader)


def test_hf_trec_coarse_labels_and_missing_column() -> None:
    def loader(repo: str, config: str | None, split: str) -> FakeTable:
        return FakeTable({"text": ["Who?"], "coarse_label": [3], "fine_label": [30]}, {})

    assert load_hf("trec", loader=loader).class_names[3] == "HUM"

    def wrong(repo: str, config: str | None, split: str) -> FakeTable:
        return FakeTable({"sentence": ["Who?"], "label": [3]}, {})

    with pytest.raises(DataFormatError, match=r"columns \['text', 'coarse_label'\].*missing"):
        load_hf("trec", loader=wrong)
    with pytest.raises(ValueError, match="Expected `name` to be one of"):
        load_hf("imdb", loader=wrong)


def test_hf_without_datasets_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match="pip install datasets"):
        load_hf("ag_news")


def test_hf_offline_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Couldn't reach the hub")

    monkeypatch.setitem(sys.modules, "datasets", SimpleNamespace(load_dataset=failing))
    with pytest.raises(DataNotFoundError, match=r"Could not load 'CogComp/trec'.*needs the net"):
        load_hf("trec")
