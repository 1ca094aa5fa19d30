"""``relreps demo``: the main job of the README.

Interim version (the full zoo-of-encoders demo replaces it): sklearn digits, an encoder (PCA to 32
dims) and a second "model" whose latent space is the first one rotated and rescaled, as different
training seeds do. A logistic-regression head trained on model A is applied to model B as is
(zero-shot stitching), once on absolute coordinates and once on relative ones.
"""

from __future__ import annotations

import argparse

import numpy as np

DESCRIPTION = __doc__


def run(args: argparse.Namespace) -> int:
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    import relreps

    rng = np.random.default_rng(args.seed)
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    encoder = PCA(n_components=32, random_state=args.seed).fit(x_train)
    q, r = np.linalg.qr(rng.normal(size=(32, 32)))
    rotation = q * np.sign(np.diag(r))

    def model_a(images: np.ndarray) -> np.ndarray:
        return encoder.transform(images)

    def model_b(images: np.ndarray) -> np.ndarray:
        return 3.0 * encoder.transform(images) @ rotation

    anchor_idx = rng.choice(len(x_train), size=64, replace=False)
    anchors = x_train[anchor_idx]
    rows = []
    for space in ("absolute", "relative"):

        def embed(model, images, space=space):
            z = model(images)
            return relreps.relative_projection(z, model(anchors)) if space == "relative" else z

        head = LogisticRegression(max_iter=2000).fit(embed(model_a, x_train), y_train)
        za, zb = embed(model_a, x_test), embed(model_b, x_test)
        cos = np.sum(za * zb, 1) / (np.linalg.norm(za, axis=1) * np.linalg.norm(zb, axis=1))
        rows.append(
            {
                "space": space,
                "accuracy_not_stitched": float(head.score(za, y_test)),
                "accuracy_stitched": float(head.score(zb, y_test)),
                "paired_cosine_a_b": float(cos.mean()),
            }
        )
    print("relreps demo (interim): sklearn digits, model B = model A rotated and rescaled x3")
    print(f"{'space':<10} {'acc A->A':>9} {'acc B->A head':>14} {'cos(A, B)':>10}")
    for row in rows:
        print(
            f"{row['space']:<10} {row['accuracy_not_stitched']:>9.3f} "
            f"{row['accuracy_stitched']:>14.3f} {row['paired_cosine_a_b']:>10.3f}"
        )
    return 0
