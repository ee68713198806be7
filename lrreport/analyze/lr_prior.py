"""What LR is usual for a run's optimizer and kind of training: a prior, with its sources.

A curve alone cannot always say whether an LR was too high or too low: a loss
stuck at a constant predictor's level looks the same either way, and a run
still falling at its end may be slow or merely long. The size of the LR for
its optimizer and regime is independent evidence. The ranges below are where
published recipes and framework defaults put the LR; a run outside its range
by ``FAR`` or more is "far off", which the detectors weigh (never alone: a
prior is a reason to believe the curve, not a diagnosis).

Regimes, recognised from what the logs say about the run (its format, its
hyperparameters, its names):

* ``scratch``: training a network from random weights (the default).
* ``finetune``: full fine-tuning of a pretrained transformer (Hugging Face
  Trainer runs, or hparams naming a pretrained checkpoint).
* ``lora``: parameter-efficient fine-tuning (LoRA, QLoRA, adapters, PEFT).
* ``prompt``: prompt / prefix / P-tuning, which trains a few embeddings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["FAR", "LRPrior", "optimizer_of", "prior_for", "regime_of"]

#: Outside the usual range by this factor or more: "far off".
FAR = 3.0


@dataclass(frozen=True)
class LRPrior:
    """The usual LR range of one optimizer in one regime."""

    optimizer: str  #: the optimizer family, or "any" when the run does not say
    regime: str
    low: float
    typical: float
    high: float
    source: str

    def position(self, lr: float | None) -> str | None:
        """'far_high', 'high', 'usual', 'low', 'far_low' (None without an LR)."""
        if lr is None or not math.isfinite(lr) or lr <= 0:
            return None
        if lr > self.high * FAR:
            return "far_high"
        if lr > self.high:
            return "high"
        if lr < self.low / FAR:
            return "far_low"
        if lr < self.low:
            return "low"
        return "usual"

    def describe(self) -> str:
        opt = "" if self.optimizer == "any" else f"{self.optimizer} "
        return f"{opt}{REGIME_WORDS[self.regime]}: usually {self.low:g} to {self.high:g} ({self.source})"


REGIME_WORDS = {
    "scratch": "training from scratch",
    "finetune": "fine-tuning a pretrained model",
    "lora": "LoRA/adapter fine-tuning",
    "prompt": "prompt/prefix tuning",
}

#: (optimizer family, regime) -> (low, typical, high, source).
PRIORS: dict[tuple[str, str], tuple[float, float, float, str]] = {
    # Adam's paper default and the frameworks' (torch, Keras) is 1e-3; recipes that train
    # CNNs/MLPs/RNNs from scratch with Adam-like optimizers stay within about 1e-4 to 3e-3.
    ("adam", "scratch"): (1e-4, 1e-3, 3e-3, "Kingma & Ba 2015; torch and Keras default 1e-3"),
    # SGD with momentum: 0.1 for ResNets at batch 256 (He et al. 2016; Goyal et al. 2017's
    # linear scaling), 0.01 for smaller batches and older nets (Krizhevsky et al. 2012).
    ("sgd", "scratch"): (1e-3, 3e-2, 0.3, "He et al. 2016; Goyal et al. 2017; Krizhevsky et al. 2012"),
    ("rmsprop", "scratch"): (1e-4, 1e-3, 3e-3, "Keras default 1e-3; Tieleman & Hinton 2012"),
    ("adagrad", "scratch"): (1e-3, 1e-2, 0.1, "torch and Keras default 1e-2; Duchi et al. 2011"),
    ("adadelta", "scratch"): (0.1, 1.0, 1.0, "Zeiler 2012 (LR 1.0); torch default 1.0"),
    # Lion needs a 3-10x smaller LR than AdamW (Chen et al. 2023).
    ("lion", "scratch"): (1e-5, 1e-4, 3e-4, "Chen et al. 2023"),
    ("lamb", "scratch"): (1e-4, 1e-3, 1e-2, "You et al. 2020"),
    # Fine-tuning pretrained transformers: BERT's grid {5e-5, 3e-5, 2e-5} (Devlin et al. 2019),
    # the Trainer's default 5e-5; Whisper and LLM full fine-tunes go down to 1e-6.
    ("adam", "finetune"): (1e-6, 3e-5, 1e-4, "Devlin et al. 2019; transformers' Trainer default 5e-5"),
    ("sgd", "finetune"): (1e-4, 1e-3, 1e-2, "Kornblith et al. 2019 (fine-tuning with SGD)"),
    # LoRA / QLoRA: 1e-4 to 3e-4 (Hu et al. 2021; Dettmers et al. 2023 use 2e-4).
    ("adam", "lora"): (1e-5, 2e-4, 1e-3, "Hu et al. 2021; Dettmers et al. 2023"),
    # P-tuning v2 / prefix tuning train a handful of embeddings with large LRs.
    ("adam", "prompt"): (1e-3, 1e-2, 5e-2, "Liu et al. 2022 (P-tuning v2); Li & Liang 2021"),
}

#: Optimizer names as written in hparams and configs -> the family their LR behaves like.
FAMILY = {
    "adam": "adam",
    "adamw": "adam",
    "nadam": "adam",
    "radam": "adam",
    "adamax": "adam",
    "adafactor": "adam",
    "adamw_torch": "adam",
    "adamw_hf": "adam",
    "adamw_torch_fused": "adam",
    "adamw_8bit": "adam",
    "paged_adamw_8bit": "adam",
    "paged_adamw_32bit": "adam",
    "sgd": "sgd",
    "sgdm": "sgd",
    "sgd_momentum": "sgd",
    "nesterov": "sgd",
    "momentum": "sgd",
    "rmsprop": "rmsprop",
    "adagrad": "adagrad",
    "adadelta": "adadelta",
    "lion": "lion",
    "lamb": "lamb",
}
OPTIMIZER_KEYS = ("optimizer", "optim", "opt", "opt_name", "optimizer_name", "optimizer.name", "optimizer_type",
                  "optimizer.type", "optimizer._target_", "otimizador", "optimiser", "solver")
#: An optimizer named in a logged LR tag (Lightning's LearningRateMonitor: lr-Adam, lr-SGD/pg1).
LR_TAG_OPT = re.compile(r"^lr[-_](?P<opt>[a-z]+)", re.I)

LORA = re.compile(r"(?<![a-z0-9])(lora|qlora|peft|adapters?|ia3)(?![a-z])", re.I)
PROMPT = re.compile(r"(?<![a-z0-9])(p[_-]?tuning|prefix[_-]?tuning|prompt[_-]?tuning|pre_seq_len)", re.I)
#: Pretrained model families, matched at the start of a word of a setting's value or the
#: run's name ("distilbert-base", "bert_cls", "openai/whisper-tiny"), never inside one
#: ("activation" holds "vit", "grad_clip" holds "clip").
PRETRAINED = re.compile(
    r"(?<![a-z0-9])(bert|roberta|deberta|distil|albert|electra|xlm|gpt|llama|mistral|falcon|qwen|t5|bart|whisper|"
    r"wav2vec|vit|swin|clip|bloom|opt-\d|phi-?\d|gemma|chatglm|pretrained|huggingface|hf-internal|"
    r"fine[_-]?tun|finetun|transfer)",
    re.I,
)
MODEL_KEYS = frozenset({"model", "model_name", "model_type", "arch", "architecture", "net", "network", "backbone"})
#: Settings whose presence alone says "a pretrained checkpoint was loaded".
PRETRAINED_KEYS = re.compile(r"(^|[._])(model_name_or_path|pretrained(_model)?(_name)?|base_model|checkpoint_name|hf_model)$", re.I)


def _words(value: Any) -> str:
    return value.strip().lower().replace("torch.optim.", "").replace("keras.optimizers.", "").split(".")[-1]


def optimizer_of(hparams: dict[str, Any], tags: list[str] | None = None) -> str | None:
    """The optimizer family a run names (hparams first, then its LR tags), or None."""
    lower = {str(k).lower(): v for k, v in hparams.items()}
    for key in OPTIMIZER_KEYS:
        v = lower.get(key)
        if isinstance(v, str):
            fam = FAMILY.get(_words(v))
            if fam:
                return fam
    for k, v in sorted(lower.items()):
        if k.endswith(("optimizer", "optim", "optim.name", "optimizer.name")) and isinstance(v, str):
            fam = FAMILY.get(_words(v))
            if fam:
                return fam
    for t in tags or []:
        m = LR_TAG_OPT.match(t)
        if m and m.group("opt").lower() in FAMILY:
            return FAMILY[m.group("opt").lower()]
    return None


def regime_of(source: str, hparams: dict[str, Any], names: str = "") -> str:
    """scratch, finetune, lora or prompt, from the run's format, hyperparameters and names."""
    values = " ".join(str(v) for v in hparams.values() if isinstance(v, str))
    keys = " ".join(str(k) for k in hparams)
    text = f"{names} {values}"
    if PROMPT.search(f"{text} {keys}"):
        return "prompt"
    if LORA.search(f"{text} {keys}"):
        return "lora"
    model = next((str(v) for k, v in hparams.items() if str(k).lower() in MODEL_KEYS and isinstance(v, str)), None)
    if model is not None and not PRETRAINED.search(model) and ("hf_trainer_state" in source) and not PRETRAINED.search(names):
        return "scratch"  # the Trainer's format, but a model of the user's own (an MLP, a CNN)
    if (
        "hf_trainer_state" in source
        or PRETRAINED.search(text)
        or any(PRETRAINED_KEYS.search(str(k)) and v not in (None, False, "", "none") for k, v in hparams.items())
    ):
        return "finetune"
    return "scratch"


def prior_for(source: str, hparams: dict[str, Any], names: str = "", tags: list[str] | None = None) -> LRPrior:
    """The usual LR range for this run. Without a named optimizer: Adam-like in the fine-tuning
    regimes (what nearly all of them use), and the union of Adam's and SGD's ranges from scratch."""
    regime = regime_of(source, hparams, names)
    opt = optimizer_of(hparams, tags)
    if opt is not None and (opt, regime) in PRIORS:
        lo, typ, hi, src = PRIORS[(opt, regime)]
        return LRPrior(opt, regime, lo, typ, hi, src)
    if opt is not None and regime == "scratch":
        lo, typ, hi, src = PRIORS[("adam", "scratch")]
        return LRPrior(opt, regime, lo, typ, hi, src)
    if regime != "scratch":
        lo, typ, hi, src = PRIORS[("sgd" if opt == "sgd" else "adam", regime)] if (("sgd" if opt == "sgd" else "adam"), regime) in PRIORS else PRIORS[("adam", regime)]
        return LRPrior(opt or "any", regime, lo, typ, hi, src)
    a, s = PRIORS[("adam", "scratch")], PRIORS[("sgd", "scratch")]
    return LRPrior("any", "scratch", a[0], a[1], s[2], f"Adam's and SGD's usual ranges ({a[3]}; {s[3]})")
