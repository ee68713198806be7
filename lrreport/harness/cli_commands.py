"""``lrreport train`` and ``lrreport lr-find``: option parsing and calls, nothing else.

Registered on the main click group in :mod:`lrreport.cli`. Importing this
module does not import torch; a command run without torch prints the
one-line install hint and exits 2.
"""

from __future__ import annotations

import sys

import click

from . import TORCH_HINT
from .schedules import OPTIMIZERS
from .data import DATASETS

__all__ = ["lr_find_command", "train_command"]


def _need_torch(command: str) -> None:
    try:
        import torch  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError:
        click.echo(TORCH_HINT.format(command=command), err=True)
        sys.exit(2)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip()) if text else ()


def run_options(f):
    """Options every harness command shares: data, model, optimizer, logging."""
    opts = [
        click.option("--logdir", required=True, type=click.Path(file_okay=False), help="Where the run folders go."),
        click.option("--dataset", type=click.Choice(DATASETS), default="demo", show_default=True),
        click.option("--model", type=click.Choice(["mlp", "cnn"]), default="mlp", show_default=True),
        click.option("--hidden", default="10", show_default=True, help="Hidden widths, e.g. 64,128 (CNN: channels)."),
        click.option("--batch-size", type=int, default=32, show_default=True),
        click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="sgd", show_default=True),
        click.option("--momentum", type=float, default=0.0, show_default=True),
        click.option("--nesterov", is_flag=True),
        click.option("--weight-decay", type=float, default=0.0, show_default=True),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--n-train", type=int, default=None, help="Keep only this many training samples."),
        click.option("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA when present)."),
        click.option("--log-format", default="tb,csv", show_default=True,
                     help="Any of tb, csv, keras_history, lightning, hf, mlflow, keras_tb (comma-separated) or all."),
        click.option("--name", default=None, help="Run folder name (default from the LR and seed; '.' = LOGDIR)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _config(kw: dict, **extra):
    from .train import TrainConfig
    from .writers import parse_formats

    try:
        formats = parse_formats(kw["log_format"])
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--log-format") from e
    return TrainConfig(
        dataset=kw["dataset"], model=kw["model"], hidden=_ints(kw["hidden"]), batch_size=kw["batch_size"],
        optimizer=kw["optimizer"], momentum=kw["momentum"], nesterov=kw["nesterov"],
        weight_decay=kw["weight_decay"], seed=kw["seed"], n_train=kw["n_train"], device=kw["device"],
        formats=formats, name=kw["name"], **extra,
    )


@click.command(name="train")
@run_options
@click.option("--epochs", type=int, default=15, show_default=True)
@click.option("--lr", type=float, default=0.1, show_default=True)
@click.option("--schedule", default="step:step_size=5,gamma=0.5", show_default=True,
              help="constant, step, multistep, exponential, cosine, cosine_restarts, onecycle or plateau, "
                   "with options: 'step:step_size=5,gamma=0.5', 'multistep:milestones=10/20'.")
@click.option("--sched-interval", type=click.Choice(["epoch", "step"]), default="epoch", show_default=True)
@click.option("--warmup", type=int, default=0, show_default=True, help="Linear warmup length (sched-interval units).")
@click.option("--group-lr", multiple=True, metavar="GROUP=LR", help="Per-group LR: body=1e-4 --group-lr head=1e-2.")
@click.option("--grad-clip", type=float, default=None)
@click.option("--log-every", type=int, default=1, show_default=True, help="Step scalars every N steps (0: epoch only).")
@click.option("--sweep", multiple=True, metavar="KEY=A:B:N", help="Sweep: lr=1e-5:10:13 (log grid) or lr=0.1,0.01.")
@click.option("--seeds", default=None, help="Seeds for a sweep: 0,1,2 or 0-4.")
@click.option("--workers", type=int, default=None, help="Processes for a sweep (default: one per core).")
@click.option("--quiet", is_flag=True, help="No epoch table.")
def train_command(**kw):
    """Train a small model and log what the learning rate did (default: the demo run)."""
    _need_torch("train")
    from .sweep import parse_seeds, parse_sweep, run_sweep
    from .train import EPOCH_TABLE_HEADER, format_epoch_row, train

    groups = {}
    for item in kw["group_lr"]:
        g, eq, v = item.partition("=")
        try:
            groups[g.strip()] = float(v)
        except ValueError:
            eq = ""
        if not eq:
            raise click.BadParameter(f"{item!r} is not GROUP=LR", param_hint="--group-lr")
    try:
        config = _config(kw, epochs=kw["epochs"], lr=kw["lr"], schedule=kw["schedule"],
                         sched_interval=kw["sched_interval"], warmup=kw["warmup"], group_lr=groups,
                         grad_clip=kw["grad_clip"], log_every=kw["log_every"])
        sweep = parse_sweep(kw["sweep"])
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    if sweep or kw["seeds"]:
        seeds = parse_seeds(kw["seeds"]) if kw["seeds"] else [kw["seed"]]
        results = run_sweep(config, kw["logdir"], sweep=sweep, seeds=seeds, workers=kw["workers"])
        click.echo(f"{'run':32s}  {'best val loss':>13}  {'best epoch':>10}")
        for r in results:
            if "error" in r:
                click.echo(f"{r['name']:32s}  failed: {r['error']}")
            else:
                ep = "-" if r["best_epoch"] is None else r["best_epoch"] + 1
                click.echo(f"{r['name']:32s}  {r['best_val_loss']:13.4g}  {ep:>10}")
        click.echo(f"{len(results)} runs written under {kw['logdir']}")
        return
    if not kw["quiet"]:
        click.echo(EPOCH_TABLE_HEADER)
    try:
        res = train(config, kw["logdir"], on_epoch=None if kw["quiet"] else (lambda row: click.echo(format_epoch_row(row))))
    except (ValueError, RuntimeError) as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"logs ({', '.join(config.formats)}) written to {res.run_dir}")


@click.command(name="lr-find")
@run_options
@click.option("--start-lr", type=float, default=1e-7, show_default=True)
@click.option("--end-lr", type=float, default=10.0, show_default=True)
@click.option("--num-steps", type=int, default=100, show_default=True)
@click.option("--stop-factor", type=float, default=4.0, show_default=True,
              help="Stop once the smoothed loss exceeds this multiple of its minimum.")
@click.option("--rule", type=click.Choice(["valley", "minimum", "steepest"]), default=None,
              help="How to read the suggestion off the curve (default: minimum, i.e. minimum/10).")
def lr_find_command(**kw):
    """LR range test: sweep the LR up exponentially in one short run and suggest one."""
    _need_torch("lr-find")
    from .lrfind import DEFAULT_RULE, run_lr_find

    if kw["name"] is None:
        kw["name"] = "lr_find"
    try:
        config = _config(kw)
        out = run_lr_find(config, kw["logdir"], start_lr=kw["start_lr"], end_lr=kw["end_lr"],
                          num_steps=kw["num_steps"], stop_factor=kw["stop_factor"], rule=kw["rule"] or DEFAULT_RULE)
    except (ValueError, RuntimeError) as e:
        raise click.ClickException(str(e)) from e
    click.echo(out.describe())
    others = ", ".join(f"{r} {s.lr:.1e}" for r, s in out.suggestions.items() if r != out.suggestion.rule)
    click.echo(f"  other rules: {others}")
    stop = "stopped when the smoothed loss passed " + f"{kw['stop_factor']:g}x its minimum" if out.stopped_early \
        else "ran all steps"
    click.echo(f"  {len(out.lrs)} steps from lr {out.lrs[0]:.1e} to {out.lrs[-1]:.1e} ({stop}); logs in {out.run_dir}")
