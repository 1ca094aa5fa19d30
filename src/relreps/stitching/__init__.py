"""The zero-shot stitching engine: every (encoder, head) pair, absolute vs relative.

Give it several *spaces* (one per encoder: train, test and anchor embeddings of the SAME items,
from anywhere: numpy, torch, precomputed or computed by a callable), the labels, a head factory and
seeds. For each space and seed it trains an absolute head (on the embeddings) and a relative head
(on their cosine similarities to the space's own anchors), then scores every head on every space's
test set:

- ``relative``: space i's test set, projected on space i's anchors, read by the head trained on
  space j's relative representation. Always defined (same anchors, any widths).
- ``absolute``: space i's test embeddings read by space j's absolute head. Only defined for equal
  widths; other cells are NaN with a reason.
- ``translation`` (optional): space i's test embeddings mapped into space j by a Procrustes
  translation fitted on the two anchor sets (:class:`relreps.translate.Procrustes`), then read by
  space j's absolute head.

The result holds the full (encoder, decoder, seed) score arrays, per-pair mean +- std over seeds,
and the paper's summary rows (absolute / relative x not stitched / stitched). With ``cache_dir``
every finished cell is stored as a small JSON file (atomic write) keyed by a hash of everything it
depends on, so a rerun skips it and an interrupted run resumes.

Are vectors normalised before stitching? The engine feeds the relative heads the RAW similarities
(cosine already divides by both norms); the default head then applies LayerNorm to them as its
first layer. Absolute embeddings are not normalised by the engine; the default head applies the same
LayerNorm to them (matched capacity).

For FROZEN embeddings from anywhere, :class:`RelativeHead` (module ``frozen``) is the stitching
head as an estimator: ``fit(x, labels, anchors)`` on one encoder, ``predict(x_b, anchors_b)`` from
any other; :class:`AbsoluteHead` and :func:`procrustes_translate` are its baselines, and
:class:`HeadConfig` (``DEFAULTS``) holds the defaults that ``relreps stitch`` also uses.

Modules: ``frozen`` (the frozen-embedding heads), ``scores`` (the scorings), ``heads`` (head
protocol and the default MLP head), ``spaces``
(inputs and their checks), ``result`` (:class:`StitchingResult`), ``grid`` (the grid over
embeddings) and ``models`` (the grid over trained relreps.nn models).
"""

from __future__ import annotations

from relreps.stitching.ablation import head_ablation
from relreps.stitching.anchor_draws import anchor_draw_grid
from relreps.stitching.anchor_sweep import AnchorSweep
from relreps.stitching.frozen import (
    DEFAULTS,
    AbsoluteHead,
    FrozenHeadFactory,
    HeadConfig,
    RelativeHead,
    procrustes_translate,
)
from relreps.stitching.grid import METHODS, stitching_grid
from relreps.stitching.heads import Head, HeadFactory, MLPHeadFactory
from relreps.stitching.models import stitching_grid_models
from relreps.stitching.pairs import own_and_stitched
from relreps.stitching.parallel_anchors import parallel_anchor_stitching
from relreps.stitching.result import StitchingResult, SummaryRow, UndefinedCell
from relreps.stitching.scores import (
    SCORERS,
    accuracy,
    f1_score,
    majority_f1,
    mean_absolute_error,
    mean_squared_error,
    score,
)
from relreps.stitching.spaces import Space, anchor_keys

__all__ = [
    "DEFAULTS",
    "METHODS",
    "SCORERS",
    "AbsoluteHead",
    "AnchorSweep",
    "FrozenHeadFactory",
    "Head",
    "HeadConfig",
    "HeadFactory",
    "MLPHeadFactory",
    "RelativeHead",
    "Space",
    "StitchingResult",
    "SummaryRow",
    "UndefinedCell",
    "accuracy",
    "anchor_draw_grid",
    "anchor_keys",
    "f1_score",
    "head_ablation",
    "majority_f1",
    "mean_absolute_error",
    "mean_squared_error",
    "own_and_stitched",
    "parallel_anchor_stitching",
    "procrustes_translate",
    "score",
    "stitching_grid",
    "stitching_grid_models",
]
