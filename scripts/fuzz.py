#!/usr/bin/env python
"""lrreport's reliability campaign: hostile inputs of every class through load -> analyze ->
every renderer -> the CLI, in worker processes with a time and memory limit per case.

    python scripts/fuzz.py run --cases 200000 --out fuzz-results      # batched, resumable
    python scripts/fuzz.py report --out fuzz-results                  # the totals, as Markdown
    python scripts/fuzz.py case 1234                                  # one case, in this process
    python scripts/fuzz.py atheris --format csv -- -runs=100000       # coverage-guided, if atheris installs

Cases come from :mod:`hostile_inputs` (one folder per case, from a seed: a failure is
replayed with ``case SEED``). Each worker imports lrreport once, warms up, then caps its
address space at its size after warm-up plus ``--mem-mb`` (``RLIMIT_AS``): a case that
needs more fails its allocation (counted as ``oom``). The parent gives each case
``--timeout`` seconds; a worker that does not answer is killed (``hang``) and replaced.

Per case, counted as failures:

* ``traceback``: an exception escaped load, analyze, a renderer, or the CLI exited 3;
* ``internal``: load caught a reader's unexpected exception (a ReadError saying
  "internal error": nothing escaped, but it is a bug);
* ``lost``: an undamaged run beside the damage was not read whole;
* ``silent``: a damaged file was neither an error nor a file note nor a warning;
* ``hang`` / ``oom`` / ``died``: the worker timed out, ran out of its memory, or died.

Every case goes through load, analyze, the JSON, Markdown, JUnit and terminal renderers
(each output parsed back or encoded as UTF-8) and the epoch trace; every ``--html-every``
th case also through the HTML report, every ``--cli-every``th through ``lrreport
analyze`` and ``lrreport ls`` (click's CliRunner, in the worker).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

OUTCOMES = ("ok", "traceback", "internal", "lost", "silent", "hang", "oom", "died")


# --- one case ------------------------------------------------------------------------------------
def run_case(seed: int, cls: str | None, html: bool, cli: bool, workdir: Path) -> dict:
    """Build case ``seed`` and put it through everything; a dict with its outcome."""
    from hostile_inputs import make_case

    import lrreport

    case_dir = Path(tempfile.mkdtemp(prefix=f"case{seed}-", dir=workdir))
    root = case_dir / "logs"
    result = {"seed": seed, "outcome": "ok", "stage": "", "detail": ""}
    started = time.monotonic()
    try:
        case = make_case(seed, root, cls)
        result["cls"], result["what"] = case.cls, case.what
        result["stage"] = "load"
        rs = lrreport.load(root, workers=1, progress=False, **case.options)
        problems = _check(rs, case)
        result["stage"] = "analyze"
        a = lrreport.analyze(rs, progress=False)
        result["stage"] = "render"
        _render(a, html)
        if cli:
            result["stage"] = "cli"
            _cli(root, case_dir, case.options)
        if problems:
            result["outcome"], result["detail"] = problems[0]
    except MemoryError:
        result["outcome"], result["detail"] = "oom", "MemoryError"
    except Exception as exc:  # noqa: BLE001 - what the campaign counts
        result["outcome"] = "traceback"
        result["detail"] = f"{type(exc).__name__}: {str(exc)[:300]}\n" + "".join(traceback.format_exc(limit=8))[-3000:]
    finally:
        result["seconds"] = round(time.monotonic() - started, 3)
        shutil.rmtree(case_dir, ignore_errors=True)
        for extra in (str(root) + "-outside", str(root) + "-dir"):
            shutil.rmtree(extra, ignore_errors=True)
    return result


def _check(rs, case) -> list[tuple[str, str]]:
    problems = []
    for e in rs.errors:
        if "internal error" in e.error:
            problems.append(("internal", f"{e.path}: {e.error}"))
    for run, points in case.expect_points.items():
        got = rs.runs[run].points if run in rs.runs else None
        if got != points:
            problems.append(("lost", f"{run}: {got} points read, {points} written; errors: {[e.error for e in rs.errors][:3]}"))
    said = [e.path + " " + e.error for e in rs.errors] + [n.path + " " + n.detail for n in rs.notes]
    said += [w for info in rs.runs.values() for w in info.warnings]
    for what in case.expect_said:
        if not any(what in s for s in said):
            problems.append(("silent", f"{what} damaged but not said"))
    return problems


def _render(a, html: bool) -> None:
    from xml.etree import ElementTree

    from lrreport.report import Report
    from lrreport.report.jsonout import to_json
    from lrreport.report.junit import to_junit
    from lrreport.report.markdown import to_markdown
    from lrreport.report.terminal import print_summary

    doc = to_json(a)
    json.loads(doc)
    md = to_markdown(a)
    xml = to_junit(a, fail_on="warning")
    ElementTree.fromstring(xml.split("\n", 1)[1])
    buf = io.StringIO()
    print_summary(a, file=buf, html_path="report.html")
    for run in a.runs:
        a.trace(run)
    outs = [doc, md, xml, buf.getvalue()]
    if html:
        outs.append(Report(a, workers=1).to_html())
    for text in outs:
        text.encode("utf-8")


def _cli(root: Path, case_dir: Path, options: dict) -> None:
    from click.testing import CliRunner

    from lrreport.cli import main

    extra = ["--allow-pickle"] if options.get("allow_pickle") else []
    runner = CliRunner()
    for args in (
        ["analyze", str(root), "--no-html", "--json", "-", "--markdown", str(case_dir / "s.md"), "--junit", str(case_dir / "j.xml"), "--fail-on", "warning", *extra],
        ["ls", str(root), *extra],
        ["ls", str(root), "--json", *extra],
    ):
        res = runner.invoke(main, args)
        if res.exit_code not in (0, 1, 2) or "Traceback" in res.output or "internal error" in res.output:
            raise RuntimeError(f"lrreport {args[0]} exited {res.exit_code}: {res.output[-500:]}")


# --- worker ----------------------------------------------------------------------------------------
def worker(args) -> None:
    """Read 'seed cls html cli' lines on stdin, answer one JSON line each on stdout."""
    workdir = Path(tempfile.mkdtemp(prefix="lrreport-fuzz-"))
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing a case prints may corrupt the answers
    import warnings

    warnings.simplefilter("ignore")
    run_case(0, "damaged_sample", True, True, workdir)  # warm up: imports, numba compiled or loaded
    run_case(1, "render_crash", True, True, workdir)
    if args.mem_mb:
        vm = _vm_bytes()
        limit = vm + args.mem_mb * (1 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        seed, cls, html, cli = line.split()
        res = run_case(int(seed), None if cls == "-" else cls, html == "1", cli == "1", workdir)
        out.write(json.dumps(res) + "\n")
        out.flush()
    shutil.rmtree(workdir, ignore_errors=True)


def _vm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


class Worker:
    def __init__(self, args):
        self.args = args
        cmd = [sys.executable, str(Path(__file__).resolve()), "worker", "--mem-mb", str(args.mem_mb)]
        env = dict(os.environ, PYTHONPATH=str(ROOT), CI="true")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, bufsize=1)
        self.ready = False
        self.seed: int | None = None
        self.since = 0.0

    def send(self, seed: int, cls: str | None, html: bool, cli: bool) -> None:
        self.seed, self.since = seed, time.monotonic()
        self.proc.stdin.write(f"{seed} {cls or '-'} {int(html)} {int(cli)}\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()


def run(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    batches = range(args.start // args.batch, (args.start + args.cases + args.batch - 1) // args.batch)
    t0 = time.monotonic()
    workers: list[Worker] = []
    for b in batches:
        path = out / f"batch-{b:05d}.json"
        if path.exists():
            continue  # resumable: finished batches are kept
        if not workers:
            workers = [Worker(args) for _ in range(args.workers)]
        lo, hi = b * args.batch, min((b + 1) * args.batch, args.start + args.cases)
        summary = run_batch(args, range(max(lo, args.start), hi), workers)
        summary["batch"] = b
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=1))
        tmp.replace(path)
        bad = sum(v for k, v in summary["outcomes"].items() if k != "ok")
        print(f"batch {b}: {summary['cases']} cases, {bad} failures, {summary['seconds']:.0f} s (total {time.monotonic() - t0:.0f} s)", flush=True)
    for w in workers:
        w.proc.stdin.close()
        try:
            w.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()


def run_batch(args, seeds: range, workers: list) -> dict:
    """Run ``seeds`` on ``workers`` (replaced in the list when one hangs or dies)."""
    todo = list(seeds)
    outcomes = {k: 0 for k in OUTCOMES}
    by_class: dict[str, dict[str, int]] = {}
    failures: list[dict] = []
    max_seconds = 0.0
    stages = {"html": 0, "cli": 0}
    started = time.monotonic()
    pending = 0

    def record(res: dict) -> None:
        nonlocal max_seconds
        outcomes[res["outcome"]] += 1
        cls = res.get("cls", "?")
        by_class.setdefault(cls, {k: 0 for k in OUTCOMES})[res["outcome"]] += 1
        max_seconds = max(max_seconds, res.get("seconds", 0.0))
        if res["outcome"] != "ok":
            failures.append(res)

    def next_job(w: Worker) -> None:
        nonlocal pending
        if todo:
            seed = todo.pop(0)
            html = seed % args.html_every == 0
            cli = seed % args.cli_every == 3 % args.cli_every
            stages["html"] += html
            stages["cli"] += cli
            w.send(seed, args.cls, html, cli)
            pending += 1
        else:
            w.seed = None

    for w in workers:
        if w.ready and w.seed is None:
            next_job(w)
    while todo or pending:
        fds = {w.proc.stdout: w for w in workers if not w.ready or w.seed is not None}
        r, _, _ = select.select(list(fds), [], [], 0.5) if fds else ([], [], [])
        for fd in r:
            w = fds[fd]
            line = fd.readline()
            if line and not w.ready:
                if json.loads(line).get("ready"):
                    w.ready = True
                    next_job(w)
                continue
            if line:
                record(json.loads(line))
                pending -= 1
                next_job(w)
                continue
            if not w.ready:  # died while warming up: start another
                workers[workers.index(w)] = Worker(args)
                continue
            # The worker died inside a case: out of memory (killed by the kernel, or an
            # allocation failure it could not raise), or a crash.
            code = w.proc.wait()
            kind = "oom" if code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV) else "died"
            record({"seed": w.seed, "outcome": kind, "detail": f"worker exit code {code}", "seconds": time.monotonic() - w.since})
            pending -= 1
            workers[workers.index(w)] = Worker(args)
        now = time.monotonic()
        for i, w in enumerate(workers):
            if w.ready and w.seed is not None and now - w.since > args.timeout:
                record({"seed": w.seed, "outcome": "hang", "detail": f"no answer in {args.timeout} s", "seconds": now - w.since})
                pending -= 1
                w.kill()
                workers[i] = Worker(args)
    return {
        "cases": len(seeds),
        "first_seed": seeds.start,
        "outcomes": outcomes,
        "by_class": by_class,
        "stages": {"load+analyze+json+markdown+junit+terminal+trace": len(seeds), **stages},
        "max_case_seconds": round(max_seconds, 2),
        "seconds": round(time.monotonic() - started, 1),
        "failures": failures[:200],
    }


def report(args) -> None:
    """The totals of every batch in ``--out``, as the Markdown table docs/reliability.md quotes."""
    files = sorted(Path(args.out).glob("batch-*.json"))
    total = {k: 0 for k in OUTCOMES}
    by_class: dict[str, dict[str, int]] = {}
    stages: dict[str, int] = {}
    cases, seconds, max_case = 0, 0.0, 0.0
    failures = []
    for f in files:
        s = json.loads(f.read_text())
        cases += s["cases"]
        seconds += s["seconds"]
        max_case = max(max_case, s["max_case_seconds"])
        for k, v in s["outcomes"].items():
            total[k] += v
        for cls, counts in s["by_class"].items():
            for k, v in counts.items():
                by_class.setdefault(cls, {o: 0 for o in OUTCOMES})[k] += v
        for k, v in s["stages"].items():
            stages[k] = stages.get(k, 0) + v
        failures += s["failures"]
    print(f"{cases} cases in {len(files)} batches, {seconds / 3600:.1f} h of wall time, slowest case {max_case:.1f} s\n")
    print("| class | cases | " + " | ".join(OUTCOMES[1:]) + " |")
    print("|---|---:|" + "---:|" * (len(OUTCOMES) - 1))
    for cls in sorted(by_class):
        c = by_class[cls]
        print(f"| {cls} | {sum(c.values())} | " + " | ".join(str(c[k]) for k in OUTCOMES[1:]) + " |")
    print(f"| **all** | **{cases}** | " + " | ".join(f"**{total[k]}**" for k in OUTCOMES[1:]) + " |")
    print("\nstages: " + ", ".join(f"{k}: {v}" for k, v in stages.items()))
    for f in failures[:20]:
        print(f"\n- seed {f.get('seed')} {f.get('cls', '?')}/{f.get('what', '?')}: {f['outcome']}: {f.get('detail', '')[:400]}")


def one_case(args) -> None:
    res = run_case(args.seed, args.cls, True, True, Path(tempfile.gettempdir()))
    print(json.dumps(res, indent=1))


def atheris_main(args, rest: list[str]) -> None:
    """Coverage-guided fuzzing of one format's reader with atheris (bytes -> one file -> load)."""
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed (pip install atheris); `fuzz.py run` needs no atheris")
    names = {
        "csv": "training.log",
        "lightning": "metrics.csv",
        "tfevents": "events.out.tfevents.1700000000.host.1.0",
        "hf": "trainer_state.json",
        "history": "history.json",
        "text": "train.log",
        "wandb": "run-x.wandb",
        "yaml": "hparams.yaml",
    }
    with atheris.instrument_imports():
        import lrreport
        from lrreport.report.jsonout import to_json
    workdir = Path(tempfile.mkdtemp(prefix="lrreport-atheris-"))

    def one_input(data: bytes) -> None:
        d = Path(tempfile.mkdtemp(dir=workdir))
        try:
            (d / names[args.format]).write_bytes(data)
            if args.format == "yaml":
                (d / "metrics.csv").write_text("epoch,step,loss\n0,0,1.0\n1,1,0.5\n")
            rs = lrreport.load(d, workers=1, progress=False)
            for e in rs.errors:
                if "internal error" in e.error:
                    raise AssertionError(e.error)
            to_json(lrreport.analyze(rs, progress=False))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    atheris.Setup([sys.argv[0], *rest], one_input)
    atheris.Fuzz()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--cases", type=int, default=200_000)
    r.add_argument("--start", type=int, default=0, help="first seed")
    r.add_argument("--batch", type=int, default=2000)
    r.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)))
    r.add_argument("--timeout", type=float, default=60.0, help="seconds per case before it counts as a hang")
    r.add_argument("--mem-mb", type=int, default=1024, help="address space a case may add to a warmed-up worker")
    r.add_argument("--html-every", type=int, default=10)
    r.add_argument("--cli-every", type=int, default=10)
    r.add_argument("--cls", default=None, help="only this class of hostile_inputs.CLASSES")
    r.add_argument("--out", default="fuzz-results")
    w = sub.add_parser("worker")
    w.add_argument("--mem-mb", type=int, default=1024)
    rp = sub.add_parser("report")
    rp.add_argument("--out", default="fuzz-results")
    c = sub.add_parser("case")
    c.add_argument("seed", type=int)
    c.add_argument("--cls", default=None)
    a = sub.add_parser("atheris")
    a.add_argument("--format", choices=["csv", "lightning", "tfevents", "hf", "history", "text", "wandb", "yaml"], default="csv")
    argv = sys.argv[1:]
    rest: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1 :]
    args = p.parse_args(argv)
    if args.cmd == "run":
        run(args)
    elif args.cmd == "worker":
        worker(args)
    elif args.cmd == "report":
        report(args)
    elif args.cmd == "case":
        one_case(args)
    else:
        atheris_main(args, rest)


if __name__ == "__main__":
    main()
