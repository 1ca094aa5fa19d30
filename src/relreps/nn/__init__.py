"""relreps.nn: torch layers and models for relative representations (needs ``relreps[torch]``).

- :class:`RelativeProjection`: the relative representation as a layer (core math + anchors'
  gradient policy + quantisation + output normalisation).
- Models with an ``embed`` / ``encode`` / ``decode`` split: :class:`RelativeClassifier`,
  :class:`AbsoluteClassifier`, :class:`RelativeAE`, :class:`AbsoluteAE`, :class:`RelativeVAE`,
  :class:`AbsoluteVAE`; small image encoders :class:`MLPEncoder`, :class:`CNNEncoder`.
- Graph networks on torch sparse tensors (:mod:`relreps.nn.graph`): :class:`AbsoluteGCN`,
  :class:`RelativeGCN`, :class:`SparseGraph`, :func:`normalized_adjacency` and the full-batch
  trainer :func:`fit_gcn`.
- :func:`stitch`: one model's encoder, another model's head, zero-shot.
- :func:`fit`: a small deterministic trainer; :func:`train_classifier_triple` trains one encoder
  with an absolute and a relative head at once.
- :func:`save_model` / :func:`load_model`: safetensors + JSON, never pickle.
"""

from relreps.nn.graph import (
    GCN,
    AbsoluteGCN,
    GCNFit,
    RelativeGCN,
    SparseGraph,
    fit_gcn,
    normalized_adjacency,
)
from relreps.nn.identity import IdentityEncoder
from relreps.nn.io import load_model, save_model
from relreps.nn.models import (
    AbsoluteAE,
    AbsoluteClassifier,
    AbsoluteVAE,
    CNNEncoder,
    ImageDecoder,
    MLPEncoder,
    MLPHead,
    RelativeAE,
    RelativeClassifier,
    RelativeVAE,
    ResidualCNNEncoder,
    anchor_keys,
    seeded,
)
from relreps.nn.projection import OUTPUT_NORMS, OutputNorm, RelativeProjection
from relreps.nn.stitch import (
    AnchorMismatchError,
    StitchCheck,
    StitchedModel,
    StitchingUndefinedError,
    check_stitch,
    stitch,
)
from relreps.nn.train import (
    ClassifierTriple,
    TrainConfig,
    TrainHistory,
    fit,
    train_classifier_triple,
)

__all__ = [
    "GCN",
    "OUTPUT_NORMS",
    "AbsoluteAE",
    "AbsoluteClassifier",
    "AbsoluteGCN",
    "AbsoluteVAE",
    "AnchorMismatchError",
    "CNNEncoder",
    "ClassifierTriple",
    "GCNFit",
    "IdentityEncoder",
    "ImageDecoder",
    "MLPEncoder",
    "MLPHead",
    "OutputNorm",
    "RelativeAE",
    "RelativeClassifier",
    "RelativeGCN",
    "RelativeProjection",
    "RelativeVAE",
    "ResidualCNNEncoder",
    "SparseGraph",
    "StitchCheck",
    "StitchedModel",
    "StitchingUndefinedError",
    "TrainConfig",
    "TrainHistory",
    "anchor_keys",
    "check_stitch",
    "fit",
    "fit_gcn",
    "load_model",
    "normalized_adjacency",
    "save_model",
    "seeded",
    "stitch",
    "train_classifier_triple",
]
