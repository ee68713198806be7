"""W&B run folders: the real 4-run LR sweep, a run written by the wandb SDK itself, and damage."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrreport
from lrreport.ingest.wandb import read_wandb_file

DATA = Path(__file__).parent / "data" / "wandb"
SWEEP = "wandb/nicetea17-alexnet-cifar10-lr-sweep"
SWEEP_LRS = {"pypd7lzd": 3e-4, "hj498ziy": 1e-4, "fy3q62jk": 1e-3, "o6b5bny5": 3e-3}


def test_real_sweep_four_runs_with_their_lr_from_config(realworld):
    rs = lrreport.load(realworld / SWEEP)
    assert not rs.errors
    assert len(rs.runs) == 4
    for name, info in rs.runs.items():
        run_id = name.rsplit("-", 1)[-1]
        assert info.source == "wandb"
        assert info.hparams["learning_rate"] == pytest.approx(SWEEP_LRS[run_id])
        assert info.hparams["optimizer"] == "adamw" and info.hparams["wandb.run_id"] == run_id
        assert not any(k.startswith("_wandb") for k in info.hparams)
        assert {"train_loss", "val_loss", "train_acc", "val_acc", "lr"} <= set(info.metrics)
        s = rs.series(name, "val_loss")
        assert list(s.step) == list(range(50)) and list(s.epoch) == list(range(50))


def test_real_sweep_values_a_person_reads(realworld):
    rs = lrreport.load(realworld / SWEEP)
    by_id = {n.rsplit("-", 1)[-1]: n for n in rs.runs}
    v = rs.series(by_id["pypd7lzd"], "val_loss")  # lr 3e-4: bottoms at 0.785 (epoch 20), 1.54 at the end
    assert v.value.min() == pytest.approx(0.785, abs=5e-4) and v.epoch[v.value.argmin()] == 20
    assert v.value[-1] == pytest.approx(1.539, abs=1e-3)
    v = rs.series(by_id["hj498ziy"], "val_loss")  # lr 1e-4: 0.798 at epoch 22, 1.009 at the end
    assert v.value.min() == pytest.approx(0.798, abs=5e-4) and v.epoch[v.value.argmin()] == 22
    assert v.value[-1] == pytest.approx(1.009, abs=1e-3)
    acc = rs.series(by_id["o6b5bny5"], "val_acc")  # lr 3e-3: chance all along
    assert set(acc.value) == {10.0}
    lr = rs.series(by_id["fy3q62jk"], "lr")  # cosine from 1e-3
    assert lr.value[0] == pytest.approx(1e-3, rel=0.01) and lr.value[-1] < 1e-5


def test_real_sweep_groups_as_one_sweep(realworld):
    rs = lrreport.load(realworld / SWEEP)
    sweeps = lrreport.analyze(rs).sweeps
    assert len(sweeps) == 1
    assert sorted(r.lr for r in sweeps[0].runs) == sorted(SWEEP_LRS.values())


def _copy_run(realworld, tmp_path, run_id="pypd7lzd") -> Path:
    src = next((realworld / SWEEP).glob(f"run-*-{run_id}"))
    dst = tmp_path / "wandb" / src.name
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return dst


def test_truncated_record_log_keeps_every_complete_record(realworld, tmp_path):
    run = _copy_run(realworld, tmp_path)
    wf = next(run.glob("*.wandb"))
    data = wf.read_bytes()
    wf.write_bytes(data[: len(data) * 2 // 3])
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    n = len(rs.series(name, "val_loss"))
    assert 10 < n < 50
    assert any("truncated" in w for w in rs.runs[name].warnings)


def test_corrupt_chunk_is_skipped_and_the_reader_resynchronises(realworld, tmp_path):
    run = _copy_run(realworld, tmp_path)
    wf = next(run.glob("*.wandb"))
    data = bytearray(wf.read_bytes())
    for off in (40_000, 41_000, 200_000):
        data[off : off + 50] = b"\xff" * 50
    wf.write_bytes(bytes(data))
    parsed = read_wandb_file(wf)
    assert parsed.corrupt >= 1
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    assert len(rs.series(name, "val_loss")) >= 40  # a damaged chunk costs its own rows, not the rest
    assert any("damaged chunks skipped" in w for w in rs.runs[name].warnings)


def test_without_the_binary_the_text_files_are_read_and_it_says_so(realworld, tmp_path):
    run = _copy_run(realworld, tmp_path)
    next(run.glob("*.wandb")).unlink()
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    info = rs.runs[name]
    assert info.source == "wandb" and info.hparams["learning_rate"] == pytest.approx(3e-4)
    assert any("no run-*.wandb file: read from files/output.log" in w for w in info.warnings)
    v = rs.series(name, "val_loss")
    assert len(v) == 50 and v.value[0] == pytest.approx(1.877, abs=1e-3)


def test_folder_with_only_a_summary(tmp_path):
    files = tmp_path / "wandb" / "offline-run-20240101_000000-abc123" / "files"
    files.mkdir(parents=True)
    (files / "wandb-summary.json").write_text(json.dumps({"loss": 0.3, "val_loss": 0.4, "_step": 99}))
    (files / "config.yaml").write_text("wandb_version: 1\nlr:\n  desc: null\n  value: 0.01\n")
    (files / "wandb-metadata.json").write_text("{}")
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    assert rs.runs[name].hparams == {"lr": 0.01}
    assert list(rs.series(name, "train_loss").step) == [99]
    assert any("only the last value" in w for w in rs.runs[name].warnings)


def test_empty_run_folder_is_listed_with_its_reason(tmp_path):
    files = tmp_path / "wandb" / "run-20240101_000000-dead00" / "files"
    files.mkdir(parents=True)
    (files / "config.yaml").write_text("lr:\n  value: 0.1\n")
    (files / "wandb-metadata.json").write_text("{}")
    rs = lrreport.load(tmp_path)
    assert not rs.runs
    (err,) = rs.errors
    assert "W&B run without a readable history" in err.error


# --- the record framing, written here the way wandb writes it -----------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _history(step: int, items: dict) -> bytes:
    body = b"".join(_field(1, _field(1, k.encode()) + _field(16, json.dumps(v).encode())) for k, v in items.items())
    return _field(2, body + _field(2, bytes([0x08]) + _varint(step)))  # Record.history{items, step{num}}


def _framed(records: list[bytes]) -> bytes:
    out = bytearray(struct.pack("<4sHB", b":W&B", 0xBEE1, 0))
    for rec in records:
        while rec:
            left = 32768 - len(out) % 32768
            if left < 7:
                out += b"\x00" * left
                continue
            chunk, rec_rest = rec[: left - 7], rec[left - 7 :]
            first = len(chunk) == len(rec)
            kind = 1 if first and not rec_rest else 2
            out += struct.pack("<IHB", zlib.crc32(bytes([kind]) + chunk), len(chunk), kind) + chunk
            rec = rec_rest
            while rec:
                left = 32768 - len(out) % 32768
                chunk, rec = rec[: left - 7], rec[left - 7 :]
                kind = 4 if not rec else 3
                out += struct.pack("<IHB", zlib.crc32(bytes([kind]) + chunk), len(chunk), kind) + chunk
    return bytes(out)


def test_records_spanning_blocks_are_reassembled(tmp_path):
    big = {"train/loss": 0.5, "notes": "x" * 40_000}  # a record longer than a 32 KiB block
    recs = [_history(i, {"_step": i, "train/loss": 1.0 / (i + 1), "epoch": i}) for i in range(5)]
    recs.insert(2, _history(99, big))
    (tmp_path / "run-abc.wandb").write_bytes(_framed(recs))
    wf = read_wandb_file(tmp_path / "run-abc.wandb")
    assert wf.corrupt == 0 and len(wf.rows) == 6 and wf.rows[2][1]["notes"] == "x" * 40_000
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    s = rs.series(name, "train_loss")
    assert len(s) == 6 and list(s.epoch[:2]) == [0, 1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 3000), flips=st.lists(st.integers(0, 2999), max_size=5))
def test_damaged_record_logs_never_raise(tmp_path_factory, cut, flips):
    recs = [_history(i, {"_step": i, "loss": 1.0 / (i + 1)}) for i in range(40)]
    data = bytearray(_framed(recs))[: 7 + cut]
    for f in flips:
        if f < len(data):
            data[f] ^= 0x5A
    d = tmp_path_factory.mktemp("wb")
    (d / "run-x.wandb").write_bytes(bytes(data))
    rs = lrreport.load(d)
    for e in rs.errors:
        assert "\n" not in e.error


def test_sdk_written_offline_run():
    """A run written by the wandb SDK itself (scripts/make_wandb_fixture.py)."""
    expected = json.loads((DATA / "sdk-offline.expected.json").read_text())
    rs = lrreport.load(DATA / "sdk-offline")
    (name,) = rs.runs
    info = rs.runs[name]
    assert name.startswith("wandb/offline-run-") and not rs.errors
    assert info.source == "wandb" and info.hparams["learning_rate"] == expected["config"]["learning_rate"]
    assert info.hparams["optimizer.name"] == expected["config"]["optimizer"]["name"]
    for key, metric in (("train/loss", "train_loss"), ("val/loss", "val_loss"), ("lr", "lr")):
        s = rs.series(name, metric)
        assert s.value == pytest.approx(expected["history"][key])
    assert list(rs.series(name, "val_loss").epoch) == expected["history"]["epoch"]
