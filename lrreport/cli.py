"""The ``lrreport`` command: parsing options and calling the library, nothing more.

Exit codes, so CI can tell the outcomes apart:

====  =================================================================
0     analysed (files that could not be read are listed, and do not fail)
1     a finding at or above ``--fail-on``
2     usage error, unreadable config, output that cannot be written, or
      nothing readable under the logdir
3     internal error: a bug in lrreport (one line on stderr; the
      traceback with ``--debug``)
130   interrupted (Ctrl-C); 141: the pipe stdout wrote to was closed
====  =================================================================
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
import warnings

import click

from . import __version__

FAIL_ON = ("error", "warning", "info", "never")
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_PIPE = 130, 141
#: Lines of file notes and errors printed on the terminal; the JSON and the report have them all.
MAX_TERMINAL_NOTES = 20


def _fail(msg: str) -> None:
    click.echo(f"lrreport: error: {msg}", err=True)
    sys.exit(EXIT_USAGE)


def _debug_wanted(ctx: click.Context | None) -> bool:
    if os.environ.get("LRREPORT_DEBUG", "").lower() in ("1", "true", "yes"):
        return True
    return bool(ctx is not None and ctx.meta.get("lrreport.debug"))


def _set_debug(ctx: click.Context, _param, value: bool) -> None:
    if value:
        ctx.meta["lrreport.debug"] = True


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show the traceback of an internal error (exit code 3) and numpy's warnings.",
)


class LRReportGroup(click.Group):
    """The command group: turns what escapes a command into the exit codes of the module docstring."""

    def invoke(self, ctx: click.Context):
        _safe_streams()
        try:
            with warnings.catch_warnings():
                if not _debug_wanted(ctx):
                    # Overflow in a ratio of two 1e308 losses is the data's, not a fault: no noise.
                    warnings.simplefilter("ignore", RuntimeWarning)
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("lrreport: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _quiet_broken_pipe()
            sys.exit(EXIT_PIPE)
        except Exception as exc:  # a bug in lrreport: say so in one line, exit 3
            if _debug_wanted(ctx):
                traceback.print_exc(file=sys.stderr)
            what = type(exc).__name__
            if isinstance(exc, MemoryError):
                msg = "out of memory"
            else:
                first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
                msg = f"{what}{': ' + first if first else ''}"
            hint = "" if _debug_wanted(ctx) else "; rerun with --debug for the traceback"
            click.echo(f"lrreport: internal error ({msg}): this is a bug in lrreport, please report it{hint}", err=True)
            sys.exit(EXIT_INTERNAL)


def _safe_streams() -> None:
    """Names from users' files may hold bytes that are not UTF-8 (escaped by the library);
    whatever remains, printing must not crash on it."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError, TypeError):
                pass


def _quiet_broken_pipe() -> None:
    # Python would complain again while flushing stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _size(ctx, param, value):
    if value is None:
        return None
    from .ingest.files import parse_size

    try:
        return parse_size(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a size (examples: 500M, 2G, 1000000)") from None


def load_options(f):
    """Options shared by every command that reads logs."""

    @click.option(
        "--max-file-size",
        "max_file_size",
        metavar="SIZE",
        callback=_size,
        help="Largest log file read, e.g. 500M or 4G (default: per format, 2G for event files; "
        "a larger file is listed as unreadable).",
    )
    @debug_option
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


def _load(logdir: str, allow_pickle: bool, progress: bool | None, max_file_size: int | None = None):
    """The runs under LOGDIR with their metadata, read source by source (no points kept)."""
    from . import progress as progress_mod
    from .pipeline import inventory
    from .remote import RemoteError

    progress_mod.NOTIFY = progress is not False
    try:
        return inventory(logdir, allow_pickle=allow_pickle, progress=progress, max_file_bytes=max_file_size)
    except FileNotFoundError as exc:
        _fail(str(exc))
    except PermissionError as exc:
        _fail(f"{logdir}: permission denied ({exc.strerror})")
    except RemoteError as exc:
        _fail(str(exc))


def _say_files(runset, listing: bool = False) -> None:
    """Every file that could not be read, and every file read with damage, in part, replaced,
    skipped or through a link out of the logdir, one line each (capped): on stderr after an
    analysis, in the listing itself for ``ls``."""
    from .report.terminal import plain

    if listing:
        lines = [f"unreadable: {e.path}: {e.error}" for e in runset.errors]
        lines += [f"{n.kind}: {n.path}: {n.detail}" for n in runset.notes]
    else:
        lines = [f"lrreport: could not read {e.path}: {e.error}" for e in runset.errors]
        lines += [f"lrreport: {n.kind}: {n.path}: {n.detail}" for n in runset.notes]
    for line in lines[:MAX_TERMINAL_NOTES]:
        click.echo(plain(line), err=not listing)
    if len(lines) > MAX_TERMINAL_NOTES:
        more = len(lines) - MAX_TERMINAL_NOTES
        click.echo(f"{'' if listing else 'lrreport: '}... and {more} more (all of them in --json)", err=not listing)


@click.group(cls=LRReportGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lrreport")
@debug_option
def main() -> None:
    """lrreport: what the learning rate did to your training run.

    Reads TensorBoard event files, Keras CSV/History, Lightning CSV, Hugging Face
    trainer_state.json and MLflow file stores, finds LR trouble (too high, too
    low, plateaus, overfitting, early cuts, missing warmup, unbalanced groups),
    and writes a report with the evidence and a fix.

    \b
    Exit codes: 0 analysed; 1 a finding at or above --fail-on; 2 usage error or
    nothing readable; 3 internal error (a bug: please report it; --debug shows
    the traceback).
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
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Where per-run summaries are kept, so runs whose files did not change are not read again "
    "(default: $LRREPORT_CACHE_DIR, else ~/.cache/lrreport; off where it cannot be written).",
)
@click.option("--no-cache", is_flag=True, help="Read and analyse every run afresh; keep nothing.")
@click.option(
    "--watch",
    type=click.FloatRange(min=0.1),
    default=None,
    is_flag=False,
    flag_value=5.0,
    metavar="[SECONDS]",
    help="Keep watching LOGDIR and rewrite the outputs whenever a log grows or a run appears "
    "(every 5 s, or SECONDS); Ctrl-C stops.",
)
@load_options
def analyze(
    logdir, html_path, no_html, json_path, md_path, junit_path, fail_on, config_path, suppress, quiet, workers,
    dask_address, cache_dir, no_cache, watch, allow_pickle, progress, max_file_size,
):
    """Analyze every run under LOGDIR and write the report.

    \b
    Examples:
      lrreport analyze runs/                      # writes lrreport-report.html
      lrreport analyze runs/ --json - --no-html   # JSON on stdout
      lrreport analyze runs/ --markdown "$GITHUB_STEP_SUMMARY" --junit junit.xml --fail-on error
    """
    from .analyze.config import load_config
    from .remote import RemoteError

    try:
        config = load_config(config_path, search_from=os.getcwd())
    except ValueError as exc:
        _fail(str(exc))
    if suppress:
        config = config.with_overrides({"suppress": list(config.suppress) + list(suppress)})

    # Run by run, keeping only what the outputs need (lrreport.pipeline): a thousand-run
    # sweep never holds a thousand runs' points. Unchanged sources come from the cache.
    from . import progress as progress_mod
    from .cache import SummaryCache
    from .pipeline import analyze_logdir

    progress_mod.NOTIFY = progress is not False
    cache = None if no_cache else SummaryCache(cache_dir)
    options = dict(
        config=config, workers=workers, dask=dask_address, allow_pickle=allow_pickle, progress=progress,
        max_file_bytes=max_file_size,
    )
    if watch is not None:
        _watch(logdir, watch, cache, options, html_path, no_html, json_path, md_path, junit_path, fail_on, quiet)
        return
    try:
        analysis = analyze_logdir(logdir, cache=cache, **options)
    except FileNotFoundError as exc:
        _fail(str(exc))
    except PermissionError as exc:
        _fail(f"{logdir}: permission denied ({exc.strerror})")
    except RuntimeError as exc:  # --dask without its extra installed
        _fail(str(exc))
    except RemoteError as exc:
        _fail(str(exc))
    if cache is not None:
        cache.clean()
    runset = analysis.runset
    if not runset.runs:
        _say_files(runset)
        _fail(f"{logdir}: no readable training logs found")

    _write_outputs(analysis, html_path, no_html, json_path, md_path, junit_path, fail_on, progress, workers)
    stdout_taken = "-" in (json_path, md_path)
    if not quiet:
        from .report.terminal import print_summary

        out = sys.stderr if stdout_taken else sys.stdout
        print_summary(analysis, file=out, html_path=None if no_html else html_path)
    _say_files(runset)
    sys.exit(exit_code(analysis, fail_on))


def _write_outputs(analysis, html_path, no_html, json_path, md_path, junit_path, fail_on, progress, workers=None) -> None:
    """Render everything first, then write: a failure leaves no half-set of outputs."""
    from .report.output import OutputError, write_all

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

        outputs.append((html_path, Report(analysis, workers=workers, progress=progress).to_html()))
    try:
        write_all(outputs)
    except OutputError as exc:
        _fail(str(exc))


def _watch(logdir, interval, cache, options, html_path, no_html, json_path, md_path, junit_path, fail_on, quiet) -> None:
    """Renew the outputs whenever the logdir changes, until Ctrl-C (exit 130)."""
    from .watch import watch

    if "-" in (json_path, md_path):
        _fail("--watch rewrites its outputs: give --json and --markdown file paths, not -")
    if not os.path.exists(logdir):
        _fail(f"{logdir}: no such file or directory")

    def on_analysis(analysis, n: int) -> None:
        if analysis.runset.runs:
            _write_outputs(analysis, html_path, no_html, json_path, md_path, junit_path, fail_on, False, options.get("workers"))
        if not quiet:
            from datetime import datetime

            stamp = datetime.now().strftime("%H:%M:%S")
            counts = analysis.verdict_counts()
            healthy = counts.get("healthy", 0)
            click.echo(
                f"{stamp} lrreport: {len(analysis.runs)} runs ({healthy} healthy), "
                f"{len(analysis.runset.errors)} unreadable; report {'not ' if no_html else ''}written"
                + ("" if no_html else f" to {html_path}"),
                err=True,
            )

    click.echo(f"lrreport: watching {logdir} every {interval:g} s (Ctrl-C to stop)", err=True)
    watch(logdir, on_analysis, interval=interval, cache=cache, **options)


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
def ls_command(logdir, as_json, allow_pickle, progress, max_file_size):
    """List the runs under LOGDIR: format, metrics, points, and files that could not be read
    or were read with damage."""
    from .analyze.analysis import clean
    from .report.terminal import files_line, plain

    runset = _load(logdir, allow_pickle, progress, max_file_size)
    if as_json:
        doc = {
            "logdir": runset.logdir,
            "runs": [clean(info.to_dict()) for info in runset.runs.values()],
            "files": runset.file_counts(),
            "errors": [e.to_dict() for e in runset.errors],
            "file_notes": [n.to_dict() for n in runset.notes],
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False, default=str))
    else:
        width = max((len(plain(r)) for r in runset.runs), default=3)
        click.echo(f"{'run':<{width}}  {'format':<17} {'points':>9}  metrics")
        for name, info in runset.runs.items():
            click.echo(plain(f"{name:<{width}}  {info.source:<17} {info.points:>9}  {', '.join(info.metrics)}"))
        files = files_line(runset.file_counts())
        points = sum(info.points for info in runset.runs.values())
        click.echo(f"{len(runset.runs)} runs, {points} points, {len(runset.errors)} unreadable" + (f"; files: {files}" if files else ""))
        _say_files(runset, listing=True)
    sys.exit(EXIT_OK if runset.runs else EXIT_USAGE)


# --- harness commands (train, lr-find) ---
# These imports pull in click and numpy only; torch is imported when a command runs.
from .harness.cli_commands import lr_find_command as _lr_find_command  # noqa: E402
from .harness.cli_commands import train_command as _train_command  # noqa: E402

main.add_command(_train_command)
main.add_command(_lr_find_command)
# --- end harness commands ---


if __name__ == "__main__":  # pragma: no cover
    main()
