"""The ``lrreport`` command: parsing options and calling the library, nothing more.

Exit codes: 0 analysed; 1 findings at or above ``--fail-on``; 2 usage error,
unreadable config, or nothing readable under the logdir.
"""

from __future__ import annotations

import functools
import json
import os
import sys

import click

from . import __version__

FAIL_ON = ("error", "warning", "info", "never")


def _fail(msg: str) -> None:
    click.echo(f"lrreport: error: {msg}", err=True)
    sys.exit(2)


def load_options(f):
    """Options shared by every command that reads logs."""

    @click.option(
        "--allow-pickle",
        is_flag=True,
        help="Also read pickled Keras histories (*hist*.pkl). Unpickling runs code: only for files you trust.",
    )
    @click.option(
        "--progress/--no-progress",
        default=None,
        help="Progress bar on stderr (default: on a terminal, off under CI=true).",
    )
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


def _load(logdir: str, allow_pickle: bool, progress: bool | None):
    from . import progress as progress_mod
    from .ingest import load

    progress_mod.NOTIFY = progress is not False
    try:
        return load(logdir, allow_pickle=allow_pickle, progress=progress)
    except FileNotFoundError as exc:
        _fail(str(exc))
    except PermissionError as exc:
        _fail(f"{logdir}: permission denied ({exc.strerror})")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lrreport")
def main() -> None:
    """lrreport: what the learning rate did to your training run.

    Reads TensorBoard event files, Keras CSV/History, Lightning CSV, Hugging Face
    trainer_state.json and MLflow file stores, finds LR trouble (too high, too
    low, plateaus, overfitting, early cuts, missing warmup, unbalanced groups),
    and writes a report with the evidence and a fix.
    """


@main.command()
@click.argument("logdir", type=click.Path(exists=False, file_okay=True, dir_okay=True))
@click.option(
    "-o",
    "--output",
    "html_path",
    default="lrreport-report.html",
    show_default=True,
    metavar="PATH",
    help="HTML report path.",
)
@click.option("--no-html", is_flag=True, help="Do not write the HTML report.")
@click.option("--json", "json_path", metavar="PATH|-", help="Write the JSON result (FINDINGS.md contract); - for stdout.")
@click.option("--markdown", "md_path", metavar="PATH|-", help="Write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY); - for stdout.")
@click.option("--junit", "junit_path", metavar="PATH", help="Write JUnit XML (one testsuite per run).")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="never",
    show_default=True,
    help="Exit 1 when a finding has at least this severity.",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML file of thresholds ([tool.lrreport] keys).")
@click.option("--suppress", multiple=True, metavar="CODE", help="Do not report this finding code (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="No summary on the terminal.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Processes that read and analyse runs in parallel (default: one per core; large logdirs only).",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    envvar="LRREPORT_DASK_ADDRESS",
    help="Send the per-run work to this Dask scheduler (e.g. tcp://host:8786; env LRREPORT_DASK_ADDRESS). "
    "Its workers must reach the logs at the same paths.",
)
@load_options
def analyze(
    logdir, html_path, no_html, json_path, md_path, junit_path, fail_on, config_path, suppress, quiet, workers,
    dask_address, allow_pickle, progress,
):
    """Analyze every run under LOGDIR and write the report.

    \b
    Examples:
      lrreport analyze runs/                      # writes lrreport-report.html
      lrreport analyze runs/ --json - --no-html   # JSON on stdout
      lrreport analyze runs/ --markdown "$GITHUB_STEP_SUMMARY" --junit junit.xml --fail-on error
    """
    from .analyze.config import load_config
    from .report.output import OutputError, write_all

    try:
        config = load_config(config_path, search_from=os.getcwd())
    except ValueError as exc:
        _fail(str(exc))
    if suppress:
        config = config.with_overrides({"suppress": list(config.suppress) + list(suppress)})

    # Run by run, keeping only what the outputs need (lrreport.pipeline): a thousand-run
    # sweep never holds a thousand runs' points.
    from . import progress as progress_mod
    from .pipeline import analyze_logdir

    progress_mod.NOTIFY = progress is not False
    try:
        analysis = analyze_logdir(
            logdir, config=config, workers=workers, dask=dask_address, allow_pickle=allow_pickle, progress=progress
        )
    except FileNotFoundError as exc:
        _fail(str(exc))
    except PermissionError as exc:
        _fail(f"{logdir}: permission denied ({exc.strerror})")
    except RuntimeError as exc:  # --dask without its extra installed
        _fail(str(exc))
    runset = analysis.runset
    if not runset.runs:
        for e in runset.errors:
            click.echo(f"lrreport: {e.path}: {e.error}", err=True)
        _fail(f"{logdir}: no readable training logs found")

    # Render everything first, then write: a failure leaves no half-set of outputs.
    outputs: list[tuple[str, str]] = []
    if json_path:
        from .report.jsonout import to_json

        outputs.append((json_path, to_json(analysis)))
    if md_path:
        from .report.markdown import to_markdown

        outputs.append((md_path, to_markdown(analysis)))
    if junit_path:
        from .report.junit import to_junit

        outputs.append((junit_path, to_junit(analysis, fail_on=fail_on)))
    if not no_html:
        from .report import Report

        outputs.append((html_path, Report(analysis, progress=progress).to_html()))
    try:
        write_all(outputs)
    except OutputError as exc:
        _fail(str(exc))

    stdout_taken = "-" in (json_path, md_path)
    if not quiet:
        from .report.terminal import print_summary

        out = sys.stderr if stdout_taken else sys.stdout
        print_summary(analysis, file=out, html_path=None if no_html else html_path)
    for e in runset.errors:
        click.echo(f"lrreport: could not read {e.path}: {e.error}", err=True)
    sys.exit(exit_code(analysis, fail_on))


def exit_code(analysis, fail_on: str) -> int:
    from .analyze.analysis import severity_rank

    if fail_on == "never":
        return 0
    worst = max((severity_rank(f.severity) for f in analysis.findings), default=0)
    return 1 if worst >= severity_rank(fail_on) else 0


@main.command(name="ls")
@click.argument("logdir", type=click.Path(exists=False))
@click.option("--json", "as_json", is_flag=True, help="Print the inventory as JSON.")
@load_options
def ls_command(logdir, as_json, allow_pickle, progress):
    """List the runs under LOGDIR: format, metrics, points, and files that could not be read."""
    runset = _load(logdir, allow_pickle, progress)
    if as_json:
        doc = {
            "logdir": runset.logdir,
            "runs": [info.to_dict() for info in runset.runs.values()],
            "errors": [e.to_dict() for e in runset.errors],
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    else:
        width = max((len(r) for r in runset.runs), default=3)
        click.echo(f"{'run':<{width}}  {'format':<17} {'points':>9}  metrics")
        for name, info in runset.runs.items():
            click.echo(f"{name:<{width}}  {info.source:<17} {info.points:>9}  {', '.join(info.metrics)}")
        click.echo(f"{len(runset.runs)} runs, {runset.scalars.height} points, {len(runset.errors)} unreadable")
        for e in runset.errors:
            click.echo(f"unreadable: {e.path}: {e.error}")
    sys.exit(0 if runset.runs or not runset.errors else 2)


# --- harness commands (train, lr-find) ---
# These imports pull in click and numpy only; torch is imported when a command runs.
from .harness.cli_commands import lr_find_command as _lr_find_command  # noqa: E402
from .harness.cli_commands import train_command as _train_command  # noqa: E402

main.add_command(_train_command)
main.add_command(_lr_find_command)
# --- end harness commands ---


if __name__ == "__main__":  # pragma: no cover
    main()
