"""Align embedding spaces from few or no paired samples.

Relative representations and latent translation need *parallel anchors*: the same items
embedded in both spaces. This package finds them when only a few are known, or none:

- :func:`align_pairs`: every pair is known; fit a translator (``relreps.translate``).
- :func:`bootstrap_alignment`: ``m >= 3`` seed pairs grown into thousands by matching relative
  representations (mutual CSLS nearest neighbours or an optimal-transport plan), keeping the
  confident matches, refitting, repeating (:mod:`relreps.align.refine` states the rules).
- :func:`align_unpaired`: no pairs; Gromov-Wasserstein matching of landmarks (or signed
  principal axes) as the first guess, then the same refinement; a self-consistency score with a
  threshold says when it failed, and a failed alignment holds no map
  (:mod:`relreps.align.consistency`); a found map that passes is run again on another
  subsample and must agree with itself (:mod:`relreps.align.stability`).
- :func:`generalized_procrustes`: ``N >= 3`` spaces into one shared frame.

Every result is an :class:`Alignment`: the pairs with their confidences, the fitted translator,
the self-consistency check and what each round did. Only numpy is needed at import; the
optimal-transport parts import POT (``pip install 'relreps[align]'``) when called.

Example:
    >>> import numpy as np
    >>> from relreps import align
    >>> rng = np.random.default_rng(0)
    >>> x = rng.gamma(2.0, size=(800, 6)) * np.linspace(3.0, 1.0, 6)
    >>> q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    >>> y = (x @ q)[::-1]                       # rotated, rows in another order, no pairs given
    >>> result = align.align_unpaired(x, y, n_landmarks=100)
    >>> result.ok, bool(np.mean(result.pairs[:, 1] == 799 - result.pairs[:, 0]) > 0.95)
    (True, True)
"""

from relreps.align.bootstrap import bootstrap_alignment
from relreps.align.consistency import (
    DEFAULT_THRESHOLD,
    Consistency,
    matched_structure,
    self_consistency,
)
from relreps.align.evaluate import partner_retrieval, score_tables
from relreps.align.fit import align_pairs, check_spaces
from relreps.align.matching import Matches, mutual_matches, ot_matches
from relreps.align.pairs import check_pairs, split_pairs
from relreps.align.refine import RefineSettings, Round
from relreps.align.result import Alignment, AlignmentFailedError
from relreps.align.shared import SharedSpace, generalized_procrustes
from relreps.align.state import translator_from_state, translator_state
from relreps.align.translators import TRANSLATORS
from relreps.align.unpaired import (
    UNPAIRED_METHODS,
    align_unpaired,
    gromov_pairs,
    landmarks,
    pca_pairs,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "TRANSLATORS",
    "UNPAIRED_METHODS",
    "Alignment",
    "AlignmentFailedError",
    "Consistency",
    "Matches",
    "RefineSettings",
    "Round",
    "SharedSpace",
    "align_pairs",
    "align_unpaired",
    "bootstrap_alignment",
    "check_pairs",
    "check_spaces",
    "generalized_procrustes",
    "gromov_pairs",
    "landmarks",
    "matched_structure",
    "mutual_matches",
    "ot_matches",
    "partner_retrieval",
    "pca_pairs",
    "score_tables",
    "self_consistency",
    "split_pairs",
    "translator_from_state",
    "translator_state",
]
