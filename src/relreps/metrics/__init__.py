"""Compare latent spaces: retrieval, partner ranks, CKA, CCA family, Procrustes, RSA, a report.

All metrics take paired spaces ``a`` (n_samples, d_a) and ``b`` (n_samples, d_b), where row i of
each is the same sample (numpy, torch or any array-API array), and return plain floats; each
metric's properties (similarity or distance, range, symmetry, invariances) are declared in
:func:`metric_info`.

Example:
    >>> import numpy as np
    >>> from relreps import metrics
    >>> x = np.random.default_rng(0).normal(size=(100, 6))
    >>> round(metrics.cka(x, 2.0 * x + 1.0), 12), metrics.jaccard_at_k(x, x, 5)
    (1.0, 1.0)
"""

from relreps.metrics.anchored import anchored_retrieval
from relreps.metrics.cca import canonical_correlations, cca, pwcca, svcca
from relreps.metrics.cka import cka, hsic
from relreps.metrics.compare import ComparisonReport, MetricScore, compare
from relreps.metrics.correlation import pearson
from relreps.metrics.neighbour_lists import pairwise_retrieval
from relreps.metrics.procrustes import procrustes_distance
from relreps.metrics.ranks import mean_reciprocal_rank, partner_ranks, top_k_accuracy
from relreps.metrics.registry import INVARIANCES, MetricInfo, list_metrics, metric_info
from relreps.metrics.retrieval import (
    Neighbors,
    RetrievalScores,
    jaccard_at_k,
    knn,
    mrr_at_k,
    mutual_knn,
    paired_cosine,
    retrieval_scores,
)
from relreps.metrics.rsa import rdm, rsa

__all__ = [
    "INVARIANCES",
    "ComparisonReport",
    "MetricInfo",
    "MetricScore",
    "Neighbors",
    "RetrievalScores",
    "anchored_retrieval",
    "canonical_correlations",
    "cca",
    "cka",
    "compare",
    "hsic",
    "jaccard_at_k",
    "knn",
    "list_metrics",
    "mean_reciprocal_rank",
    "metric_info",
    "mrr_at_k",
    "mutual_knn",
    "paired_cosine",
    "pairwise_retrieval",
    "partner_ranks",
    "pearson",
    "procrustes_distance",
    "pwcca",
    "rdm",
    "retrieval_scores",
    "rsa",
    "svcca",
    "top_k_accuracy",
]
