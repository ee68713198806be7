"""Hostile inputs for lrreport, by class: the generators behind ``scripts/fuzz.py`` and the
property tests of ``tests/test_reliability_props.py``.

Each generator writes one case (a small log tree) into an empty folder from a
``random.Random`` and returns a :class:`Case` saying what must hold after
``lrreport.load``: the undamaged runs beside the damage, with their exact point
counts (nothing undamaged may be lost), and the damaged files that must be
said (in ``RunSet.errors``, ``RunSet.notes`` or the run's warnings). The
classes follow the reliability issue (see docs/reliability.md):

==================  ============================================================
tree_abort          files whose content used to abort the whole tree (YAML dates,
                    bad tags, nesting; NaN/1e400 steps; 5000-digit ints; names
                    that are not UTF-8)
render_crash        values and names that used to break a renderer (1e308 beside
                    -1e308, epochs >= 2**63, YAML loops and bombs, markup in names)
entry_costs_run     one bad entry in an otherwise good file (MLflow step 1e19, a
                    NaN step in trainer_state, a bad date in meta.yaml)
silent_loss         damage that used to be skipped or replaced without a word
                    (NULs, encodings, stray quotes, replaced checkpoints, links out
                    of the logdir, unrelated event files in one folder)
hang_memory         special files, /dev/zero, sparse files past the cap, crafted
                    event files, wide and tall tables, deep JSON, damaged pickles
damaged_sample      a copy of one sample_logs/ run with random damage (flipped,
                    cut, spliced, zeroed, duplicated or shuffled bytes and lines)
live_file           a log cut at a random byte, as a reader sees a file being written
structure           links to folders, link loops, broken links, empty and odd files,
                    folders named like logs
==================  ============================================================
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"

__all__ = ["CLASSES", "Case", "make_case"]


@dataclass
class Case:
    """What must hold for one generated case after ``load``."""

    cls: str
    what: str
    options: dict = field(default_factory=dict)  #: keyword arguments for lrreport.load
    expect_points: dict[str, int] = field(default_factory=dict)  #: undamaged run -> its exact points
    expect_said: list[str] = field(default_factory=list)  #: damaged files (path suffixes) that must be said


# --- building blocks ------------------------------------------------------------------------------
def good_run(root: Path, case: Case, name: str = "good", epochs: int = 12) -> None:
    """An undamaged Keras CSVLogger log beside the damage: its points must all be read."""
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    rows = [f"{e},{0.05 + 2.0 * 0.8 ** e:.6f},0.01,{0.1 + 2.1 * 0.8 ** e:.6f}" for e in range(epochs)]
    (d / "training.log").write_text("epoch,loss,lr,val_loss\r\n" + "\r\n".join(rows) + "\r\n")
    case.expect_points[name] = 3 * epochs


def _rand_float(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.random():.6f}",
            repr(rng.uniform(-1e308, 1e308)),
            rng.choice(["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "1e308", "-1e308", "1e-320", "-0.0", "0"]),
            f"{rng.random():.17g}",
            "9" * rng.randint(19, 400),
            "1e" + str(rng.randint(300, 5000)),
        ]
    )


def _rand_step(rng: random.Random) -> str:
    return rng.choice(
        [
            str(rng.randint(0, 10_000)),
            "nan",
            "inf",
            "-inf",
            "1e19",
            "1e400",
            str(2**63),
            str(-(2**63) - 1),
            str(2**62 + rng.randint(0, 10)),
            "9" * rng.randint(20, 5000),
            "-1",
            "3.5",
            "x",
        ]
    )


def _hostile_name(rng: random.Random) -> str:
    return rng.choice(
        [
            "<script>alert(1)</script>",
            "| col | `x` *y* _z_ [a](b) # h",
            "a\x1b[31mred\x1b[0m",
            "name\twith\ttabs",
            "ümlaut ✓ 名前",
            '"quoted", and, commas',
            "x" * 300,
            "../../etc",
            "\u202eevil",
            "&amp;&lt;",
            "loss",
            "train/loss",
        ]
    )


def hostile_yaml(rng: random.Random) -> str:
    d = rng.randint(65, 600)
    pieces = [
        "started: 2024-13-45",
        "when: 2024-02-30 25:61:61",
        "seed: !!int '0xZZ'",
        "f: !!float 'abc'",
        "b: !!binary 'zz=='",
        "t: !!python/tuple [1, 2]",
        "o: !!python/object:argparse.Namespace {lr: 0.1}",
        "n: !!python/name:os.system",
        "x: !custom tag",
        "big: " + "7" * rng.randint(20, 6000),
        "deep: " + "[" * d + "]" * d,
        "deepmap: " + "{a: " * min(d, 300) + "1" + "}" * min(d, 300),
        "loop: &l [1, *l]",
        "mloop: &m {a: *m}",
        "bomb0: &b0 [x, x, x, x, x, x, x, x, x]\n"
        + "\n".join(f"bomb{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9) + "]" for i in range(1, rng.randint(3, 12))),
        "undefined: *nowhere",
        "dup: 1\ndup: 2",
        "? [complex, key]\n: value",
        "bad: [unclosed",
        "tab:\t\tx",
        "\x00nul: 1",
        "ctrl: \x07\x08",
        "lr: 0.01",
        "name: " + _hostile_name(rng).replace("\n", " "),
    ]
    return "\n".join(rng.sample(pieces, k=rng.randint(1, 6)))


def damage_bytes(data: bytes, rng: random.Random) -> bytes:
    """One of the damages a file meets: flipped bytes, a cut, spliced junk, a block of zeros,
    a duplicated or dropped stretch, shuffled lines, NaN text, a line-end change."""
    if not data:
        return rng.randbytes(rng.randint(0, 64))
    b = bytearray(data)
    mode = rng.choice(["flip", "cut", "splice", "zeros", "dup", "drop", "shuffle", "nan", "crlf", "bitflip"])
    if mode == "flip":
        for _ in range(rng.randint(1, 12)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif mode == "bitflip":
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    elif mode == "cut":
        b = b[: rng.randrange(len(b))]
    elif mode == "splice":
        i = rng.randrange(len(b))
        b[i:i] = rng.randbytes(rng.randint(1, 96))
    elif mode == "zeros":
        i = rng.randrange(len(b))
        b[i : i + rng.randint(1, 8192)] = b"\0" * rng.randint(1, 8192)
    elif mode == "dup":
        i = rng.randrange(len(b))
        j = min(len(b), i + rng.randint(1, 512))
        b[j:j] = b[i:j]
    elif mode == "drop":
        i = rng.randrange(len(b))
        del b[i : i + rng.randint(1, 512)]
    elif mode == "shuffle":
        lines = bytes(b).split(b"\n")
        rng.shuffle(lines)
        b = bytearray(b"\n".join(lines))
    elif mode == "nan":
        b = bytearray(bytes(b).replace(b"0.", rng.choice([b"nan", b"inf", b"1e400", b"-0."]), rng.randint(1, 5)))
    else:
        b = bytearray(bytes(b).replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n", b""]), rng.randint(1, 50)))
    return bytes(b)


# --- tfevents --------------------------------------------------------------------------------------
def _masked_crc(data: bytes) -> int:
    import numpy as np

    from lrreport.ingest._tfrecord import masked_crc32c

    arr = np.frombuffer(data, np.uint8).copy()
    return int(masked_crc32c(arr, 0, len(arr)))


def tf_record(data: bytes) -> bytes:
    head = struct.pack("<Q", len(data))
    return head + struct.pack("<I", _masked_crc(head)) + data + struct.pack("<I", _masked_crc(data))


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tf_event(step: int, tag: str, value: float, wall: float = 1.7e9, start: bool = False) -> bytes:
    """One Event proto with one simple_value (or a SessionLog START), by hand: field numbers
    of tensorboard/compat/proto/event.proto (wall_time=1, step=2, summary=5, session_log=7)."""
    ev = b"\x09" + struct.pack("<d", wall) + b"\x10" + _varint(step)
    if start:
        return ev + b"\x3a\x02\x08\x01"
    t = tag.encode("utf-8", "surrogatepass")
    val = b"\x0a" + _varint(len(t)) + t + b"\x15" + struct.pack("<f", value)
    summ = b"\x0a" + _varint(len(val)) + val
    return ev + b"\x2a" + _varint(len(summ)) + summ


def event_file(points: list[tuple[int, str, float]], starts: dict[int, int] | None = None) -> bytes:
    out = [tf_record(b"\x09" + struct.pack("<d", 1.7e9) + b"\x1a\x0dbrain.Event:2")]
    for i, (step, tag, v) in enumerate(points):
        if starts and i in starts:
            out.append(tf_record(tf_event(starts[i], "", 0.0, start=True)))
        out.append(tf_record(tf_event(step, tag, v)))
    return b"".join(out)


# --- classes -----------------------------------------------------------------------------------------
def tree_abort(rng: random.Random, root: Path) -> Case:
    case = Case("tree_abort", "")
    good_run(root, case)
    kind = rng.choice(["hparams_yaml", "trainer_state", "history_int", "name", "hparams_json"])
    case.what = kind
    if kind == "hparams_yaml":
        d = root / "lightning_logs" / "version_0"
        d.mkdir(parents=True)
        (d / "hparams.yaml").write_text(hostile_yaml(rng), errors="surrogatepass")
        (d / "metrics.csv").write_text("epoch,step,train_loss,val_loss\n" + "".join(f"{e},{e},{1 / (e + 1)},{1.1 / (e + 1)}\n" for e in range(8)))
        case.expect_points["lightning_logs/version_0"] = 16
    elif kind == "trainer_state":
        d = root / "out"
        d.mkdir()
        entries = [{"loss": 1 / s, "learning_rate": 1e-3, "epoch": s / 10, "step": s} for s in range(1, 11)]
        text = json.dumps({"global_step": 10, "log_history": entries})
        text = text.replace('"global_step": 10', '"global_step": ' + _rand_step(rng), 1)
        for _ in range(rng.randint(0, 3)):
            text = text.replace(f'"step": {rng.randint(1, 10)}}}', f'"step": {_rand_step(rng)}}}', 1)
        (d / "trainer_state.json").write_text(text)
    elif kind == "history_int":
        d = root / "h"
        d.mkdir()
        vals = [_rand_float(rng) if rng.random() < 0.3 else f"{rng.random():.4f}" for _ in range(8)]
        keys = ["loss", "val_loss", "lr", "epoch", _hostile_name(rng)]
        doc = "{" + ", ".join(f'"{k}": [{", ".join(vals)}]' for k in rng.sample(keys, k=3)) + "}"
        if rng.random() < 0.3:
            doc = '{"loss": {"0": 0.5, "' + "1" * rng.randint(5, 5000) + '": 0.4}}'
        (d / "history.json").write_text(doc)
    elif kind == "name":
        raw = rng.choice([b"run-\xff\xfe", b"\xc3(", b"a\xed\xa0\x80b", b"x" * 200 + b"\xff", b"\x1b[31m"])
        d = root / os.fsdecode(raw)
        good_run(d, Case("", ""), "inner")
        case.expect_points[f"{os.fsencode(d.name).decode('utf-8', 'backslashreplace')}/inner"] = 36
        (d / "trainer_state.json").write_text("{broken")
        case.expect_said.append("trainer_state.json")
    else:
        d = root / "lightning_logs" / "version_1"
        d.mkdir(parents=True)
        depth = rng.randint(1, 50_000)
        (d / "hparams.json").write_text(rng.choice(["[" * depth + "]" * depth, '{"lr": ' + "9" * depth + "}", '{"lr": NaN, "x": {"y": [1, {"z": null}]}}']))
        (d / "metrics.csv").write_text("epoch,step,train_loss\n" + "".join(f"{e},{e},{1 / (e + 1)}\n" for e in range(8)))
        case.expect_points["lightning_logs/version_1"] = 8
    return case


def render_crash(rng: random.Random, root: Path) -> Case:
    case = Case("render_crash", "")
    good_run(root, case)
    kind = rng.choice(["extreme_values", "huge_epochs", "mlflow_meta", "names", "tfevents_extreme"])
    case.what = kind
    if kind == "extreme_values":
        d = root / "x"
        d.mkdir()
        n = rng.randint(2, 60)
        rows = [f"{i},{_rand_float(rng)},{_rand_float(rng)},{_rand_float(rng)}" for i in range(n)]
        (d / "log.csv").write_text("step,loss,val_loss,lr\n" + "\n".join(rows) + "\n")
    elif kind == "huge_epochs":
        d = root / "x"
        d.mkdir()
        n = rng.randint(2, 40)
        base = rng.choice([2**63, 10**19, 2**62, -(2**63), 10**300])
        rows = [f"{i},{base + i * rng.randint(1, 10**6)},{1 / (i + 1)},{1.2 / (i + 1)},0.01" for i in range(n)]
        (d / "metrics.csv").write_text("step,epoch,loss,val_loss,lr\n" + "\n".join(rows) + "\n")
        case.expect_points["x"] = 3 * n
    elif kind == "mlflow_meta":
        run = root / "mlruns" / "0" / "abc"
        (run / "metrics").mkdir(parents=True)
        (run / "meta.yaml").write_text("run_id: abc\n" + hostile_yaml(rng).replace("lr:", "status:"))
        (run / "metrics" / "loss").write_text("".join(f"{1000 + i} {2.0 - i * 0.1} {i}\n" for i in range(10)))
        case.expect_points["mlruns/0/abc"] = 10
    elif kind == "names":
        name = _hostile_name(rng).replace("/", "_").replace("\x00", "")
        d = root / (name[:100] or "_")
        d.mkdir(parents=True, exist_ok=True)
        cols = ["epoch", _hostile_name(rng), _hostile_name(rng), "loss"]
        (d / "log.csv").write_text(",".join(c.replace(",", ";").replace("\n", " ") for c in cols) + "\n" + "".join(f"{e},0.5,0.4,{1 / (e + 1)}\n" for e in range(6)), errors="surrogatepass")
    else:
        d = root / "tb"
        d.mkdir()
        pts = [(rng.choice([0, 1, 2**62, 2**63 - 1, -(2**63)]) if rng.random() < 0.2 else i, rng.choice(["loss", "lr", _hostile_name(rng)]), rng.choice([float("nan"), float("inf"), 3.4e38, -3.4e38, 1e-45, rng.random()])) for i in range(rng.randint(1, 80))]
        (d / "events.out.tfevents.1700000000.host.1.0").write_bytes(event_file(pts))
    return case


def entry_costs_run(rng: random.Random, root: Path) -> Case:
    case = Case("entry_costs_run", "")
    kind = rng.choice(["mlflow_step", "meta_date", "trainer_state_entry", "wandb_step", "csv_step"])
    case.what = kind
    n = rng.randint(5, 40)
    bad = rng.sample(range(n), k=rng.randint(1, min(3, n - 1)))
    if kind in ("mlflow_step", "meta_date"):
        run = root / "mlruns" / "0" / "abc"
        (run / "metrics").mkdir(parents=True)
        meta = "run_id: abc\nstatus: 3\n" + (f"start_time: {rng.choice(['2024-02-30', '2024-13-45', '0000-00-00 99:99:99'])}\n" if kind == "meta_date" else "")
        (run / "meta.yaml").write_text(meta)
        lines = [f"{1000 + i} {1 / (i + 1)} {i}\n" for i in range(n)]
        if kind == "mlflow_step":
            for i in bad:
                lines[i] = f"{1000 + i} {1 / (i + 1)} {rng.choice(['1e19', 'nan', str(2**64), '9' * 30, 'x'])}\n"
            case.expect_said.append("metrics/loss")
        (run / "metrics" / "loss").write_text("".join(lines))
        case.expect_points["mlruns/0/abc"] = n - (len(bad) if kind == "mlflow_step" else 0)
    elif kind == "trainer_state_entry":
        (root / "out").mkdir()
        entries = [f'{{"loss": {1 / (s + 1)}, "epoch": {s / 10}, "step": {s}}}' for s in range(n)]
        for i in bad:
            entries[i] = f'{{"loss": 0.5, "epoch": 0.5, "step": {rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-1e30"])}}}'
        (root / "out" / "trainer_state.json").write_text('{"log_history": [%s]}' % ",".join(entries))
        case.expect_points["out"] = n - len(bad)
        case.expect_said.append("trainer_state.json")
    elif kind == "csv_step":
        (root / "c").mkdir()
        rows = [f"{i},{1 / (i + 1)},{1.1 / (i + 1)}" for i in range(n)]
        for i in bad:
            rows[i] = f"{rng.choice(['nan', 'inf', '1e400', '-1e30'])},{0.5},{0.6}"
        (root / "c" / "log.csv").write_text("step,loss,val_loss\n" + "\n".join(rows) + "\n")
        case.expect_points["c"] = 2 * (n - len(bad))
        case.expect_said.append("log.csv")
    else:
        good_run(root, case)
        run = root / "wandb" / "run-1-x" / "files"
        run.mkdir(parents=True)
        (run / "wandb-summary.json").write_text(json.dumps({"loss": 0.5, "_step": rng.choice([1e400, float("nan"), 2**70, -1])}).replace("Infinity", "1e400"))
        (run / "config.yaml").write_text(hostile_yaml(rng))
        (run / "wandb-metadata.json").write_text("{}")
    return case


def silent_loss(rng: random.Random, root: Path) -> Case:
    case = Case("silent_loss", "")
    kind = rng.choice(["nul", "encoding", "stray_quote", "replaced_checkpoint", "link_out", "unrelated_events", "nul_text"])
    case.what = kind
    n = rng.randint(6, 60)
    rows = [f"{e},{0.9 ** e:.6f},{0.95 ** e:.6f}" for e in range(n)]
    if kind == "nul":
        (root / "r").mkdir()
        k = rng.randrange(1, n)
        text = ("epoch,loss,val_loss\n" + "\n".join(rows[:k]) + "\n").encode() + rows[k][: rng.randrange(len(rows[k]))].encode() + b"\0" * rng.randint(1, 4096) + ("\n".join(rows[k:]) + "\n").encode()
        (root / "r" / "training.log").write_bytes(text)
        case.expect_said.append("training.log")
    elif kind == "encoding":
        (root / "r").mkdir()
        enc = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "cp1252", "utf-8-sig", "latin-1"])
        head = rng.choice(["epoch,loss,val_loss", "epoch,loss,val_loss"]) if enc.startswith("utf-16") else "epoch,loss,val_loss"
        sep = rng.choice(["\n", "\r\n"])
        data = (head + sep + sep.join(rows) + sep).encode(enc)
        if enc in ("cp1252", "latin-1"):
            data = data.replace(b"val_loss", "val_loss_é".encode(enc), 1)
        (root / "r" / "training.log").write_bytes(data)
        case.expect_points["r"] = 2 * n
    elif kind == "stray_quote":
        (root / "r").mkdir()
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(n)
            j = rng.randrange(len(rows[i]) + 1)
            rows[i] = rows[i][:j] + '"' + rows[i][j:]
        (root / "r" / "training.log").write_text("epoch,loss,val_loss\n" + "\n".join(rows) + "\n")
        case.expect_said.append("training.log")
    elif kind == "replaced_checkpoint":
        out = root / "out"
        entries = [f'{{"loss": {1 / s}, "learning_rate": 0.001, "epoch": {s / 10}, "step": {s}}}' for s in range(1, n + 1)]
        k = rng.randint(1, n)
        (out / f"checkpoint-{k}").mkdir(parents=True)
        (out / f"checkpoint-{k}" / "trainer_state.json").write_text('{"global_step": %d, "log_history": [%s]}' % (k, ",".join(entries[:k])))
        full = '{"global_step": %d, "log_history": [%s]}' % (n, ",".join(entries))
        data = damage_bytes(full.encode(), rng) if rng.random() < 0.5 else full[: rng.randrange(len(full))].encode()
        (out / "trainer_state.json").write_bytes(data)
        try:
            json.loads(data)
        except ValueError:
            case.expect_said.append("out/trainer_state.json")  # unreadable: its replacement must be said
    elif kind == "link_out":
        outside = root.parent / (root.name + "-outside")
        outside.mkdir(exist_ok=True)
        (outside / "training.log").write_text("epoch,loss,val_loss\n" + "\n".join(rows) + "\n")
        (root / "linked").mkdir()
        os.symlink(outside / "training.log", root / "linked" / "training.log")
        case.expect_points["linked"] = 2 * n
        case.expect_said.append("linked/training.log")
    elif kind == "unrelated_events":
        d = root / "runs"
        d.mkdir()
        total = 0
        for k in range(rng.randint(2, 5)):
            m = rng.randint(5, 60)
            start = rng.choice([0, 0, rng.randint(0, 30)])
            (d / f"events.out.tfevents.{1700000000 + k}.host{k}.{100 + k}.0").write_bytes(event_file([(start + i, "loss", float(k)) for i in range(m)]))
            total += m
        case.expect_points["runs"] = total
    else:
        d = root / "t"
        d.mkdir()
        lines = [f"Epoch {e}/{n} - loss: {0.9 ** e:.4f} - val_loss: {0.95 ** e:.4f}" for e in range(1, n + 1)]
        k = rng.randrange(1, n)
        (d / "train.log").write_bytes(("\n".join(lines[:k]) + "\n").encode() + b"\0" * rng.randint(16, 4096) + ("\n".join(lines[k:]) + "\n").encode())
        case.expect_said.append("train.log")
    return case


def hang_memory(rng: random.Random, root: Path) -> Case:
    case = Case("hang_memory", "")
    good_run(root, case)
    kind = rng.choice(["fifo", "dev_zero", "over_cap", "rollback", "wide", "tall", "deep_json", "pickle", "zeros_event", "fifo_named_log"])
    case.what = kind
    if kind in ("fifo", "dev_zero"):
        run = root / "mlruns" / "0" / "abc"
        for sub in ("metrics", "params", "tags"):
            (run / sub).mkdir(parents=True)
        (run / "meta.yaml").write_text("status: 3\n")
        (run / "metrics" / "loss").write_text("".join(f"{1000 + i} {1 / (i + 1)} {i}\n" for i in range(10)))
        target = rng.choice(["metrics/val_loss", "params/lr", "tags/mlflow.runName", "metrics/sub/x"])
        (run / target).parent.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(run / target)
        else:
            os.symlink(rng.choice(["/dev/zero", "/dev/urandom", "/dev/null"]), run / target)
        case.expect_points["mlruns/0/abc"] = 10
    elif kind == "fifo_named_log":
        name = rng.choice(["training.log", "events.out.tfevents.1.host", "trainer_state.json", "history.json", "metrics.csv", "nohup.out", "x.wandb"])
        os.mkfifo(root / name)
        case.expect_said.append(name)
    elif kind == "over_cap":
        d = root / "tb"
        d.mkdir()
        f = d / "events.out.tfevents.1700000000.host.1.0"
        f.write_bytes(event_file([(i, "loss", 1.0) for i in range(20)]))
        with open(d / "events.out.tfevents.1700000001.host.1.1", "wb") as fh:
            fh.truncate(rng.choice([3 << 30, 5 << 30, 64 << 30]))
        case.expect_points["tb"] = 20
        case.expect_said.append("events.out.tfevents.1700000001.host.1.1")
    elif kind == "rollback":
        d = root / "tb"
        d.mkdir()
        parts = [tf_record(tf_event(1, f"g{i}", 1.0)) for i in range(rng.randint(10, 2000))]
        for i in range(rng.randint(100, 20000)):
            good = tf_event(2, f"b{i}", 1.0)
            parts.append(tf_record(good[:-2] + b"\x0a\x7f"))  # a value whose length runs past the record
        rng.shuffle(parts)
        (d / "events.out.tfevents.1700000000.host.1.0").write_bytes(b"".join(parts))
    elif kind == "wide":
        d = root / "w"
        d.mkdir()
        cols = [f"loss_{i}" for i in range(rng.randint(1000, 20000))]
        (d / "log.csv").write_text("epoch," + ",".join(cols) + "\n" + "".join(f"{e}," + ",".join("0.5" for _ in cols) + "\n" for e in range(2)))
        case.expect_points["w"] = 2 * len(cols)
    elif kind == "tall":
        d = root / "t"
        d.mkdir()
        n = rng.randint(10_000, 100_000)
        with open(d / "training.log", "w") as fh:
            fh.write("epoch,loss,lr\n")
            fh.writelines(f"{rng.choice([e, e, e, 0, e // 2])},{1 / (e + 1)},0.01\n" for e in range(n))
    elif kind == "deep_json":
        d = root / "j"
        d.mkdir()
        depth = rng.randint(1000, 200_000)
        (d / rng.choice(["history.json", "trainer_state.json", "x_history.json"])).write_text("[" * depth + "]" * depth)
    elif kind == "pickle":
        d = root / "p"
        d.mkdir()
        blobs = [
            b"\x80\x04N" + b"r" + struct.pack("<I", rng.randint(1 << 28, (1 << 32) - 1)) + b".",
            b"\x80\x04\x8e" + struct.pack("<Q", rng.randint(1 << 30, 1 << 40)) + b"xx.",
            b"\x80\x04\x95" + struct.pack("<Q", 1 << 40) + b"N.",
            b"\x80\x02" + b"(" * 100_000 + b".",
            rng.randbytes(rng.randint(1, 4096)),
        ]
        (d / "history.pkl").write_bytes(rng.choice(blobs))
        case.options["allow_pickle"] = True
    else:
        d = root / "tb"
        d.mkdir()
        data = event_file([(i, "loss", 1.0) for i in range(30)])
        with open(d / "events.out.tfevents.1700000000.host.1.0", "wb") as fh:
            fh.write(data[: rng.randrange(len(data))])
            fh.truncate(fh.tell() + rng.randint(1 << 20, 64 << 20))
    return case


def damaged_sample(rng: random.Random, root: Path) -> Case:
    runs = sorted(p for p in SAMPLES.iterdir() if p.is_dir())
    src = rng.choice(runs)
    dst = root / src.name
    shutil.copytree(src, dst)
    files = sorted(p for p in dst.rglob("*") if p.is_file())
    for p in rng.sample(files, k=min(len(files), rng.randint(1, 4))):
        data = p.read_bytes()
        for _ in range(rng.randint(1, 3)):
            data = damage_bytes(data, rng)
        p.write_bytes(data)
    case = Case("damaged_sample", src.name)
    if rng.random() < 0.5:
        good_run(root, case)
    return case


def live_file(rng: random.Random, root: Path) -> Case:
    case = Case("live_file", "")
    kind = rng.choice(["csv", "mlflow", "text", "tfevents", "trainer_state", "wandb_like_text"])
    case.what = kind
    n = rng.randint(3, 80)
    if kind == "csv":
        text = "epoch,loss,lr\n" + "".join(f"{e},{0.07231330071735642 + e},0.01\n" for e in range(n))
        path = root / "r" / "training.log"
    elif kind == "mlflow":
        run = root / "mlruns" / "0" / "abc"
        (run / "metrics").mkdir(parents=True)
        (run / "meta.yaml").write_text("status: 1\n")
        text = "".join(f"{1700000000000 + i} {0.07231330071735642 + i} {i}\n" for i in range(n))
        path = run / "metrics" / "loss"
    elif kind == "text":
        text = "".join(f"Epoch {e}/{n}\n{e}/{e} - loss: {0.07231330071735642 + e}\n" for e in range(1, n))
        path = root / "train.log"
    elif kind == "tfevents":
        text = event_file([(i, "loss", float(i)) for i in range(n)]).decode("latin-1")
        path = root / "tb" / "events.out.tfevents.1700000000.host.1.0"
    elif kind == "trainer_state":
        text = json.dumps({"log_history": [{"loss": 1 / s, "step": s} for s in range(1, n)]})
        path = root / "out" / "trainer_state.json"
    else:
        text = "".join(f"Epoch {e}: 100%|##########| 10/10 [00:01, loss=0.{e:03d}]\r" * 3 + "\n" for e in range(1, n))
        path = root / "output.log"
    data = text.encode("latin-1") if kind == "tfevents" else text.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: rng.randrange(1, len(data) + 1)])
    return case


def structure(rng: random.Random, root: Path) -> Case:
    case = Case("structure", "")
    good_run(root, case)
    kind = rng.choice(["dir_link_loop", "file_link_loop", "broken_link", "empty_files", "dir_named_log", "deep_tree", "many_files", "link_to_dir"])
    case.what = kind
    if kind == "dir_link_loop":
        (root / "a").mkdir()
        os.symlink(root, root / "a" / "loop", target_is_directory=True)
    elif kind == "file_link_loop":
        os.symlink(root / "training.log", root / "training.log")
        case.expect_said.append("training.log")
    elif kind == "broken_link":
        os.symlink(root / "nowhere.csv", root / "metrics.csv")
        case.expect_said.append("metrics.csv")
    elif kind == "empty_files":
        for name in rng.sample(["training.log", "history.json", "trainer_state.json", "events.out.tfevents.1.h", "metrics.csv", "x.wandb", "nohup.out", "hparams.yaml"], k=3):
            (root / "e").mkdir(exist_ok=True)
            (root / "e" / name).write_bytes(b"" if rng.random() < 0.5 else rng.randbytes(rng.randint(1, 100)))
    elif kind == "dir_named_log":
        (root / "training.log").mkdir()
        (root / "events.out.tfevents.1.host").mkdir()
    elif kind == "deep_tree":
        d = root
        for i in range(rng.randint(50, 300)):
            d = d / f"d{i % 10}"
        good_run(d.parent, Case("", ""), d.name)
    elif kind == "many_files":
        d = root / "many"
        d.mkdir()
        for i in range(rng.randint(100, 1500)):
            (d / f"f{i}.txt").write_text("epoch 1 loss 0.5\n" if i % 7 == 0 else "hello\n")
    else:
        outside = root.parent / (root.name + "-dir")
        good_run(outside, Case("", ""), "elsewhere")
        os.symlink(outside, root / "link", target_is_directory=True)
        case.expect_said.append("link")
    return case


CLASSES: dict[str, Callable[[random.Random, Path], Case]] = {
    "tree_abort": tree_abort,
    "render_crash": render_crash,
    "entry_costs_run": entry_costs_run,
    "silent_loss": silent_loss,
    "hang_memory": hang_memory,
    "damaged_sample": damaged_sample,
    "live_file": live_file,
    "structure": structure,
}
#: How often each class is drawn: damaged samples are the bulk (the broadest damage), every class is tried.
WEIGHTS = {"tree_abort": 3, "render_crash": 3, "entry_costs_run": 2, "silent_loss": 3, "hang_memory": 1, "damaged_sample": 6, "live_file": 3, "structure": 1}


def make_case(seed: int, root: Path, cls: str | None = None) -> Case:
    """The case of ``seed`` (of class ``cls``, or one drawn by WEIGHTS), written into ``root``."""
    rng = random.Random(seed)
    if cls is None:
        names = sorted(WEIGHTS)
        cls = rng.choices(names, weights=[WEIGHTS[n] for n in names])[0]
    root.mkdir(parents=True, exist_ok=True)
    return CLASSES[cls](rng, root)
