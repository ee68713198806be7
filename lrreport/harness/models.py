"""Models the harness trains, and how their parameters split into LR groups.

* ``mlp``: Linear-ReLU stacks of any widths (``hidden=(64, 128)``).
* ``cnn``: a small two-conv network for 8x8 (digits) or 28x28 (MNIST) images.

For differential learning rates every model has two named groups: ``head``
is the last Linear layer (the classifier/regressor), ``body`` is everything
before it, the usual split for fine-tuning (fastai's discriminative LRs).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["GROUP_NAMES", "build_model", "parameter_groups"]

#: The parameter groups every model has, in optimizer order.
GROUP_NAMES = ("body", "head")


def build_model(kind: str, n_features: int, n_outputs: int, hidden: Sequence[int] = (10,),
                image_shape: tuple[int, int] | None = None):
    """A torch ``nn.Sequential`` for ``kind`` ("mlp" or "cnn")."""
    from torch import nn

    if kind == "mlp":
        layers: list = [nn.Flatten()]
        width = n_features
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, n_outputs))
        return nn.Sequential(*layers)
    if kind == "cnn":
        if image_shape is None:
            raise ValueError("a CNN needs an image data set (digits or mnist)")
        h, w = image_shape
        c1, c2 = (16, 32) if not hidden else (int(hidden[0]), int(hidden[-1]))
        # Two 3x3 convs each followed by 2x2 pooling: 8x8 -> 2x2, 28x28 -> 7x7.
        flat = c2 * (h // 4) * (w // 4)
        return nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(flat, n_outputs),
        )
    raise ValueError(f"unknown model {kind!r}; choose mlp or cnn")


def parameter_groups(model) -> dict[str, list]:
    """``{"body": [...], "head": [...]}``: head = the last Linear layer's parameters."""
    from torch import nn

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    head_ids = {id(p) for p in linears[-1].parameters()}
    head = [p for p in model.parameters() if id(p) in head_ids]
    body = [p for p in model.parameters() if id(p) not in head_ids]
    return {"body": body, "head": head}
