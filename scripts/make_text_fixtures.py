"""Write the console-output fixtures of tests/data/text/ with the real libraries.

    pip install keras lightning transformers   # torch is already there (the harness extra)
    KERAS_BACKEND=torch python scripts/make_text_fixtures.py

Each fixture is what a person finds in ``nohup.out`` or a notebook cell after
training a tiny model on random data for a few epochs: Keras 3 ``model.fit``
(verbose=1 on a terminal, with ``\\r`` overwrites and ANSI codes, and verbose=2),
Lightning 2.x's tqdm progress bar, and Hugging Face Trainer's printed dicts.
Alongside each file, ``<name>.expected.json`` holds the values the library
itself reported (Keras' History, Lightning's logged metrics, the Trainer's
log_history), which the tests compare the parsed text with. Numbers differ from
run to run (random init), so rerunning rewrites both.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "text"


class Terminal(io.StringIO):
    """A captured stdout that says it is a terminal, so progress bars draw as they do on screen."""

    def isatty(self) -> bool:
        return True


def _save(name: str, text: str, expected: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_text(text, encoding="utf-8", newline="")
    (OUT / f"{name}.expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT / name} ({len(text)} chars)")


def keras_fixtures() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32")
    for verbose, name in ((1, "keras3_fit_verbose1.txt"), (2, "keras3_fit_verbose2.txt")):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        buf = Terminal() if verbose == 1 else io.StringIO()
        with contextlib.redirect_stdout(buf):
            hist = model.fit(
                x,
                y,
                epochs=4,
                batch_size=16,
                validation_split=0.25,
                verbose=verbose,
                callbacks=[keras.callbacks.ReduceLROnPlateau(patience=1, factor=0.5, monitor="loss", min_delta=10.0)],
            )
            model.evaluate(x, y, verbose=verbose)  # after training: not a point of the curve
        expected = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
        _save(name, buf.getvalue(), {"keras": keras.__version__, "epochs_printed_from": 1, "history": expected})


def lightning_fixture(bar: str) -> None:
    import lightning as L
    from lightning.pytorch.callbacks import RichProgressBar, TQDMProgressBar
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    class Tiny(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(8, 1)
            self.history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x).squeeze(-1), y)
            self.log("train_loss", loss, prog_bar=True, on_step=False, on_epoch=True)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(x).squeeze(-1), y), prog_bar=True)

        def on_train_epoch_end(self):
            m = self.trainer.callback_metrics
            self.history["train_loss"].append(float(m["train_loss"]))
            self.history["val_loss"].append(float(m["val_loss"]))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.05)

    L.seed_everything(0, verbose=False)
    x = torch.randn(128, 8)
    y = x[:, 0] * 2.0 + 0.1 * torch.randn(128)
    train = DataLoader(TensorDataset(x[:96], y[:96]), batch_size=16)
    val = DataLoader(TensorDataset(x[96:], y[96:]), batch_size=16)
    model = Tiny()
    err = Terminal()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
        trainer = L.Trainer(
            max_epochs=3,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            accelerator="cpu",
            log_every_n_steps=1,
            callbacks=[TQDMProgressBar() if bar == "tqdm" else RichProgressBar()],
        )
        trainer.fit(model, train, val)
    _save(f"lightning2_{bar}.txt", err.getvalue(), {"lightning": L.__version__, "epochs_printed_from": 0, "history": model.history})


def hf_trainer_fixture() -> None:
    import torch
    import transformers
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=2)
    model = BertForSequenceClassification(cfg)
    ids = torch.randint(0, 64, (64, 12))
    labels = (ids[:, 0] > 32).long()
    data = [{"input_ids": ids[i], "labels": labels[i]} for i in range(64)]
    out_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "lrreport-hf-fixture"
    args = TrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=2,
        per_device_train_batch_size=8,
        learning_rate=5e-4,
        logging_steps=2,
        eval_strategy="epoch",
        save_strategy="no",
        report_to=[],
        disable_tqdm=False,
        use_cpu=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data, eval_dataset=data[:16])
    buf = Terminal()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        trainer.train()
    history = [e for e in trainer.state.log_history if "train_runtime" not in e]
    _save("hf_trainer_printed.txt", buf.getvalue(), {"transformers": transformers.__version__, "log_history": history})


if __name__ == "__main__":
    which = sys.argv[1:] or ["keras", "lightning", "hf"]
    if "keras" in which:
        keras_fixtures()
    if "lightning" in which:
        # RichProgressBar redraws with cursor moves at a fixed refresh rate: what reaches a
        # file is a few frames showing the previous epoch's values, so it is no fixture.
        lightning_fixture("tqdm")
    if "hf" in which:
        hf_trainer_fixture()
