"""TensorBoard event files: fixtures from the real writers, hostile files, real-world logs."""

from __future__ import annotations

import math
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest

import conftest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrreport.ingest.base import FRAME_SCHEMA, LogReadError
from lrreport.ingest.tfevents import (
    EventFile,
    is_event_file,
    read_event_file,
    read_event_files,
    read_tfevents_run,
)

REALWORLD = conftest.REALWORLD / "tfevents"  # ../shared/realworld, or $LRREPORT_REALWORLD


# --- writers ---------------------------------------------------------------------------------


def _pb():
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2

    return event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2


def write_events(logdir: Path, events, suffix: str = "") -> Path:
    """Write Event protos with TensorBoard's EventFileWriter; returns the file."""
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    logdir.mkdir(parents=True, exist_ok=True)
    before = set(logdir.iterdir())
    w = EventFileWriter(str(logdir), filename_suffix=suffix)
    for ev in events:
        w.add_event(ev)
    w.close()
    (path,) = set(logdir.iterdir()) - before
    return path


def simple_event(tag: str, step: int, value: float, wall: float | None = None):
    event_pb2, summary_pb2, _, _ = _pb()
    summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    return event_pb2.Event(wall_time=1.7e9 + step if wall is None else wall, step=step, summary=summ)


def tensor_event(tag: str, step: int, tensor, plugin: str = "scalars"):
    event_pb2, summary_pb2, _, _ = _pb()
    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))
    summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=meta)])
    return event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summ)


def tensor(dtype: int, dims=(), **fields):
    _, _, tensor_pb2, tensor_shape_pb2 = _pb()
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape, **fields)


def keras_scalar(tag: str, step: int, value: float):
    """What Keras' TensorBoard callback (tf.summary.scalar under TF2) writes: a float32 scalar tensor."""
    return tensor_event(tag, step, tensor(1, tensor_content=np.float32(value).tobytes()))


def loader_scalars(path: Path) -> list[tuple[str, int, float, float]]:
    """(tag, step, wall_time, value) of every scalar, as TensorBoard's own event_file_loader sees them."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    out = []
    for ev in EventFileLoader(str(path)).Load():
        if not ev.HasField("summary"):
            continue
        for v in ev.summary.value:
            if v.tag.startswith("_hparams_/") or not v.HasField("tensor"):
                continue
            if v.tensor.dtype not in (1, 2, 3, 9, 14, 19):
                continue
            if v.tensor.dtype == 14:  # bfloat16: numpy has no such dtype, tensor_util cannot decode it
                content = v.tensor.tensor_content
                bits = np.frombuffer(content, np.uint16) if content else v.tensor.half_val
                arr = (np.asarray(bits, np.uint32) << 16).view(np.float32)
            else:
                arr = tensor_util.make_ndarray(v.tensor)
            if arr.size != 1:
                continue
            out.append((v.tag, ev.step, ev.wall_time, float(arr.reshape(-1)[0])))
    return out


def ours(ef: EventFile) -> list[tuple[str, int, float, float]]:
    return [
        (ef.tags[t], s, w, v)
        for t, s, w, v in zip(ef.tag_index.tolist(), ef.step.tolist(), ef.wall_time.tolist(), ef.value.tolist())
    ]


def same_points(a, b) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x[:3] != y[:3]:
            return False
        if not (x[3] == y[3] or (math.isnan(x[3]) and math.isnan(y[3]))):
            return False
    return True


def frame_points(frame, tag: str) -> list[tuple[int, float]]:
    sub = frame.filter(frame["tag"] == tag)
    return list(zip(sub["step"].to_list(), sub["value"].to_list()))


@pytest.fixture
def plain_file(tmp_path: Path) -> Path:
    """100 simple_value scalars, one per event, 2 tags."""
    events = [simple_event("loss" if i % 2 == 0 else "lr", i // 2, float(i)) for i in range(100)]
    return write_events(tmp_path / "plain", events)


def record_offsets(path: Path) -> list[tuple[int, int]]:
    """(start, total size) of each TFRecord in a well-formed file."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, 16 + length))
        pos += 16 + length
    return out


def assert_one_line_error(path: Path) -> LogReadError:
    with pytest.raises(LogReadError) as info:
        read_event_file(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(path))
    return info.value


# --- names -----------------------------------------------------------------------------------


def test_is_event_file():
    assert is_event_file(Path("run/events.out.tfevents.1712345678.host.1.0"))
    assert is_event_file(Path("swahili-keras-tf2-train.tfevents.v2"))
    assert not is_event_file(Path("run/events.out.tfevents.1712345678.host.profile-empty"))
    assert not is_event_file(Path("run/metrics.csv"))


# --- real writers ----------------------------------------------------------------------------


def test_torch_summary_writer_run(tmp_path: Path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    run = tmp_path / "run"
    w = torch_tb.SummaryWriter(log_dir=str(run))
    for step in range(20):
        w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_scalar("lr", 0.1 * 0.9**step, step)
        w.add_scalars("acc", {"train": step * 0.01, "val": step * 0.005}, step)
    w.add_image("img", np.zeros((3, 8, 8)), 0)
    w.add_histogram("weights", np.arange(100.0), 0)
    w.add_scalar("loss", float("nan"), 20)
    w.add_hparams({"lr": 0.1, "batch_size": 32, "optimizer": "adam", "nesterov": True}, {"hparam/score": 0.75})
    w.close()

    files = sorted(p for p in run.rglob("*") if p.is_file())
    assert all(is_event_file(f) for f in files)
    data = read_tfevents_run(run, files)
    assert data.source == "tfevents"
    assert dict(data.frame.schema) == FRAME_SCHEMA
    assert data.frame["epoch"].null_count() == data.frame.height
    assert sorted(data.files) == [str(f) for f in files]
    assert data.hparams == {"lr": 0.1, "batch_size": 32, "optimizer": "adam", "nesterov": True}
    tags = set(data.frame["tag"].unique())
    (hp_dir,) = [p.name for p in run.iterdir() if p.is_dir() and p.name not in ("acc_train", "acc_val")]
    assert tags == {"loss", "lr", "acc_train/acc", "acc_val/acc", f"{hp_dir}/hparam/score"}
    loss = frame_points(data.frame, "loss")
    assert [s for s, _ in loss] == list(range(21))
    assert loss[3][1] == pytest.approx(0.25) and math.isnan(loss[20][1])
    assert frame_points(data.frame, "acc_val/acc")[10] == (10, pytest.approx(0.05))
    assert frame_points(data.frame, f"{hp_dir}/hparam/score") == [(0, pytest.approx(0.75))]
    assert data.warnings == []
    for f in files:  # same scalars, same order as TensorBoard's loader
        assert same_points(ours(read_event_file(f)), loader_scalars(f))


def test_tf2_tensor_scalars(tmp_path: Path):
    half = np.float16(0.333).view(np.uint16)
    bf16 = int(np.float32(1.5).view(np.uint32)) >> 16
    events = [
        tensor_event("f32_val", 1, tensor(1, float_val=[0.5])),
        tensor_event("f32_content", 2, tensor(1, tensor_content=np.float32(-2.25).tobytes())),
        tensor_event("f64_val", 3, tensor(2, double_val=[1e-300])),
        tensor_event("f64_content", 4, tensor(2, tensor_content=np.float64(math.pi).tobytes())),
        tensor_event("half", 5, tensor(19, half_val=[int(half)])),
        tensor_event("half_content", 6, tensor(19, tensor_content=np.float16(-8.5).tobytes())),
        tensor_event("bf16", 7, tensor(14, half_val=[bf16])),
        tensor_event("i32", 8, tensor(3, int_val=[-7])),
        tensor_event("i64", 9, tensor(9, int64_val=[2**40])),
        tensor_event("shape_1", 10, tensor(1, dims=(1,), float_val=[4.0])),
        tensor_event("inf", 11, tensor(1, float_val=[float("-inf")])),
        tensor_event("nan", 12, tensor(2, double_val=[float("nan")])),
        # skipped: not scalars, or not numbers
        tensor_event("vector", 13, tensor(1, dims=(3,), float_val=[1.0, 2.0, 3.0])),
        tensor_event("hist", 14, tensor(2, dims=(2, 3), tensor_content=np.zeros(6).tobytes()), "histograms"),
        tensor_event("text", 15, tensor(7, string_val=[b"hello"]), "text"),
    ]
    path = write_events(tmp_path / "tf2", events)
    ef = read_event_file(path)
    got = {ef.tags[t]: v for t, v in zip(ef.tag_index.tolist(), ef.value.tolist())}
    assert set(got) == {
        "f32_val", "f32_content", "f64_val", "f64_content", "half", "half_content",
        "bf16", "i32", "i64", "shape_1", "inf", "nan",
    }  # fmt: skip
    assert got["f32_val"] == 0.5 and got["f32_content"] == -2.25
    assert got["f64_val"] == 1e-300 and got["f64_content"] == math.pi
    assert got["half"] == float(np.float16(0.333)) and got["half_content"] == -8.5
    assert got["bf16"] == 1.5 and got["i32"] == -7 and got["i64"] == 2**40 and got["shape_1"] == 4.0
    assert got["inf"] == float("-inf") and math.isnan(got["nan"])
    assert ef.n_corrupt == 0 and not ef.truncated and ef.warnings == []
    assert same_points(ours(ef), loader_scalars(path))


def test_keras_train_validation_layout(tmp_path: Path):
    run = tmp_path / "fit"
    train, val = [], []
    for e in range(5):
        train += [
            keras_scalar("epoch_loss", e, 1.0 / (e + 1)),
            keras_scalar("epoch_accuracy", e, 0.5 + e / 10),
            keras_scalar("epoch_learning_rate", e, 1e-3),
        ]
        val += [keras_scalar("epoch_loss", e, 1.2 / (e + 1)), keras_scalar("epoch_accuracy", e, 0.4 + e / 10)]
    files = [write_events(run / "train", train, ".v2"), write_events(run / "validation", val, ".v2")]
    data = read_tfevents_run(run, files[::-1])
    assert data.frame["tag"].unique(maintain_order=True).to_list() == [
        "train/epoch_loss", "train/epoch_accuracy", "train/epoch_learning_rate",
        "validation/epoch_loss", "validation/epoch_accuracy",
    ]  # fmt: skip
    assert frame_points(data.frame, "validation/epoch_loss")[4] == (4, pytest.approx(0.24))
    assert frame_points(data.frame, "train/epoch_learning_rate") == [(e, pytest.approx(1e-3)) for e in range(5)]


def test_several_files_in_order(tmp_path: Path):
    run = tmp_path / "run"
    first = write_events(run, [simple_event("loss", s, s * 1.0) for s in range(10)])
    second = write_events(run, [simple_event("loss", s, s * 1.0) for s in range(10, 20)])
    later = run / "events.out.tfevents.9999999999.host.1.0"  # a later timestamp in the name sorts last
    second.rename(later)
    data = read_tfevents_run(run, [later, first])
    assert frame_points(data.frame, "loss") == [(s, s * 1.0) for s in range(20)]
    assert data.files == [str(first), str(later)]


def test_resumed_run_later_data_wins(tmp_path: Path):
    run = tmp_path / "run"
    f1 = write_events(run, [simple_event("loss", s, 1.0, wall=1e9 + s) for s in range(100)], ".a")
    f2 = write_events(run, [simple_event("loss", s, 2.0, wall=2e9 + s) for s in range(50, 150)], ".b")
    data = read_tfevents_run(run, [f1, f2])
    pts = frame_points(data.frame, "loss")
    assert [s for s, _ in pts] == list(range(150))
    assert all(v == (1.0 if s < 50 else 2.0) for s, v in pts)
    assert any("superseded" in w for w in data.warnings)
    # EventAccumulator only purges on a backwards step for file_version < 2 files (brain.Event:1);
    # for today's files it keeps both copies of steps 50..99 (only SessionLog START purges there).
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"scalars": 0})
    acc.Reload()
    assert len(acc.Scalars("loss")) == 200


def test_session_log_start_purges_all_tags(tmp_path: Path):
    event_pb2, _, _, _ = _pb()
    events = [simple_event(t, s, 1.0) for s in range(10) for t in ("a", "b")]
    events.append(event_pb2.Event(step=5, wall_time=1.8e9, session_log=event_pb2.SessionLog(status=1)))
    events += [simple_event("a", s, 2.0) for s in range(5, 8)]
    path = write_events(tmp_path / "run", events)
    data = read_tfevents_run(tmp_path / "run", [path])
    assert frame_points(data.frame, "a") == [(s, 1.0) for s in range(5)] + [(s, 2.0) for s in range(5, 8)]
    assert frame_points(data.frame, "b") == [(s, 1.0) for s in range(5)]
    assert read_event_file(path).session_starts.tolist() == [[20, 5]]


def test_hparams_only_in_hparams_dict(tmp_path: Path):
    from tensorboard.plugins.hparams import summary_v2

    event_pb2, _, _, _ = _pb()
    summ = summary_v2.hparams_pb({"lr": 3e-4, "layers": 4, "act": "gelu", "bn": False})
    path = write_events(tmp_path / "run", [event_pb2.Event(step=0, summary=summ), simple_event("loss", 0, 1.0)])
    ef = read_event_file(path)
    assert ef.tags == ["loss"]
    assert ef.hparams == {"lr": 3e-4, "layers": 4, "act": "gelu", "bn": False}


# --- hostile files ---------------------------------------------------------------------------


def test_truncated_tail_keeps_complete_records(plain_file: Path):
    data = plain_file.read_bytes()
    last_start, _ = record_offsets(plain_file)[-1]
    for cut in (last_start + 5, last_start + 14, len(data) - 1):
        plain_file.write_bytes(data[:cut])
        ef = read_event_file(plain_file)
        assert ef.truncated and len(ef) == 99 and ef.n_corrupt == 0
        assert len(ef.warnings) == 1 and "truncated" in ef.warnings[0]
        assert same_points(ours(ef), loader_scalars(plain_file))


def test_flipped_byte_in_the_middle_loses_one_record(plain_file: Path):
    clean = ours(read_event_file(plain_file))
    records = record_offsets(plain_file)
    start, size = records[50]
    original = plain_file.read_bytes()
    for where in (start + 3, start + 9, start + size // 2, start + size - 2):  # length, length CRC, data, data CRC
        data = bytearray(original)
        data[where] ^= 0x40
        plain_file.write_bytes(bytes(data))
        ef = read_event_file(plain_file)
        assert ef.n_corrupt == 1 and not ef.truncated
        assert ours(ef) == clean[:49] + clean[50:]  # record 0 is the file_version event
        assert len(ef.warnings) == 1 and "1 corrupt records skipped" in ef.warnings[0]
        # TensorBoard's loader stops at the damage and silently drops everything after it.
        assert len(loader_scalars(plain_file)) == 49


def test_huge_length_header_spliced_in(plain_file: Path):
    from lrreport.ingest._tfrecord import masked_crc32c

    clean = ours(read_event_file(plain_file))
    start, _ = record_offsets(plain_file)[30]
    length = struct.pack("<Q", 2**63)
    crc = struct.pack("<I", masked_crc32c(np.frombuffer(length, np.uint8), 0, 8))
    data = plain_file.read_bytes()
    for splice in (length + crc, length + b"\0\0\0\0", length + crc + b"garbage" * 50):
        plain_file.write_bytes(data[:start] + splice + data[start:])
        ef = read_event_file(plain_file)
        assert ours(ef) == clean and ef.n_corrupt == 1
    # overwriting a header with it costs that one record
    plain_file.write_bytes(data[:start] + length + crc + data[start + 12 :])
    ef = read_event_file(plain_file)
    assert len(ef) == 99 and ef.n_corrupt == 1


def test_malformed_proto_with_valid_crc_is_skipped(tmp_path: Path):
    from tensorboard.summary.writer.record_writer import RecordWriter

    events = [simple_event("loss", s, float(s)).SerializeToString() for s in range(10)]
    bad = [b"\x0a\xff\xff\xff\xff\x0f", b"\x2a\x05\x0a\x03\x0a\x09", b"\xff" * 12, b"\x0f"]
    path = tmp_path / "events.out.tfevents.1.host"
    with open(path, "wb") as f:
        w = RecordWriter(f)
        for i, ev in enumerate(events):
            w.write(ev)
            if i < len(bad):
                w.write(bad[i])
    ef = read_event_file(path)
    assert [s for s in ef.step.tolist()] == list(range(10))
    assert ef.n_corrupt == len(bad) and ef.n_records == 10 + len(bad)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (bytes(np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8)), "no valid record found"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1234\n", "Git LFS pointer"),
        (b"loss,step\n0.5,1\n0.4,2\n" * 50, "no valid record found"),
        (b"\0" * 11, "not a TensorBoard event file"),
    ],
)
def test_unreadable_files_raise_one_line(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "events.out.tfevents.123.host"
    path.write_bytes(content)
    err = assert_one_line_error(path)
    assert reason in err.reason


def test_missing_file_raises_log_read_error(tmp_path: Path):
    assert_one_line_error(tmp_path / "events.out.tfevents.404")


def test_run_keeps_good_files_and_warns_about_bad(tmp_path: Path):
    run = tmp_path / "run"
    good = write_events(run, [simple_event("loss", s, 1.0) for s in range(5)])
    bad = run / "events.out.tfevents.0000000001.host.lfs"
    bad.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    data = read_tfevents_run(run, [good, bad])
    assert data.frame.height == 5 and data.files == [str(good)]
    assert len(data.warnings) == 1 and bad.name in data.warnings[0] and "\n" not in data.warnings[0]
    results = read_event_files([bad, good], workers=2)
    assert isinstance(results[0], LogReadError) and isinstance(results[1], EventFile)
    with pytest.raises(LogReadError) as info:
        read_tfevents_run(run, [bad])
    assert info.value.path == str(run) and "Git LFS" in info.value.reason


# --- property: damage never crashes and never invents data ------------------------------------


def _reference_file() -> tuple[bytes, set, int]:
    events = [simple_event(f"t{i % 3}", i, i * 0.5) for i in range(40)]
    events += [keras_scalar("epoch_loss", i, 1.0 / (i + 1)) for i in range(10)]
    with tempfile.TemporaryDirectory() as d:
        path = write_events(Path(d), events)
        data = path.read_bytes()
        points = set(ours(read_event_file(path)))
    return data, points, 51


REFERENCE = _reference_file()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, len(REFERENCE[0]) - 1), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, len(REFERENCE[0]))),
    insert=st.one_of(st.none(), st.tuples(st.integers(0, len(REFERENCE[0])), st.binary(min_size=1, max_size=40))),
)
def test_mutations_never_crash_or_invent(tmp_path: Path, edits, cut, insert):
    data, points, n_records = REFERENCE
    buf = bytearray(data)
    for pos, byte in edits:
        buf[pos] = byte
    if insert is not None:
        buf[insert[0] : insert[0]] = insert[1]
    if cut is not None:
        del buf[cut:]
    path = tmp_path / "events.out.tfevents.prop"
    path.write_bytes(bytes(buf))
    try:
        ef = read_event_file(path)
    except LogReadError as exc:
        assert "\n" not in str(exc)
        return
    assert ef.n_records <= n_records
    assert set(ours(ef)) <= points
    assert len(ef) <= len(points)


def _event_templates() -> list[bytes]:
    from tensorboard.plugins.hparams import summary_v2

    event_pb2, _, _, _ = _pb()
    return [
        simple_event("train/loss", 7, 0.25).SerializeToString(),
        keras_scalar("epoch_loss", 3, 1.5).SerializeToString(),
        tensor_event("x", 1, tensor(2, dims=(1, 1), double_val=[2.0])).SerializeToString(),
        tensor_event("h", 1, tensor(19, half_val=[15360])).SerializeToString(),
        tensor_event("v", 1, tensor(3, dims=(2,), int_val=[1, -2])).SerializeToString(),
        event_pb2.Event(step=4, summary=summary_v2.hparams_pb({"lr": 0.1})).SerializeToString(),
        event_pb2.Event(step=2, session_log=event_pb2.SessionLog(status=1)).SerializeToString(),
    ]


TEMPLATES = _event_templates()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.lists(st.integers(0, len(TEMPLATES) - 1), min_size=1, max_size=6),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10_000),
)
def test_malformed_events_with_valid_crc_never_crash(tmp_path: Path, which, edits, cut):
    """Damage inside the Event proto (CRCs recomputed by the real RecordWriter): skipped, never a crash."""
    from tensorboard.summary.writer.record_writer import RecordWriter

    path = tmp_path / "events.out.tfevents.fuzz"
    with open(path, "wb") as f:
        w = RecordWriter(f)
        for k, i in enumerate(which):
            data = bytearray(TEMPLATES[i])
            if k == 0:
                for pos, byte in edits:
                    data[pos % len(data)] = byte
                del data[cut % (len(data) + 1) :]
            w.write(bytes(data))
    try:
        ef = read_event_file(path)
    except LogReadError as exc:
        assert "\n" not in str(exc)
        return
    assert ef.n_records == len(which)
    assert len(ef) <= len(which)  # each template holds at most one scalar
    assert ef.tag_index.shape == ef.step.shape == ef.value.shape == ef.wall_time.shape
    assert all(0 <= t < len(ef.tags) for t in ef.tag_index.tolist())


# --- real-world files ------------------------------------------------------------------------


def realworld(name: str) -> Path:
    if not REALWORLD.is_dir():
        pytest.skip(f"{REALWORLD} not present")
    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


@pytest.mark.parametrize(
    "name",
    [
        "dlgn-v13-overfit.tfevents",
        "dlgn-v54-healthy.tfevents",
        "fashion-mnist-torch-tutorial-mixed.tfevents",
        "mintomics-v28-hparams-lr-only.tfevents",
        "mintomics-v32-truncated-stuck.tfevents",
        "swahili-keras-tf2-train.tfevents.v2",
    ],
)
def test_realworld_matches_tensorboard_loader(name: str):
    path = realworld(name)
    ef = read_event_file(path)
    assert same_points(ours(ef), loader_scalars(path))
    assert ef.n_corrupt == 0


def test_realworld_details():
    ef = read_event_file(realworld("dlgn-v13-overfit.tfevents"))
    assert set(ef.tags) == {"train_loss", "val_loss", "val_acc", "train_acc", "epoch", "hp_metric"}
    assert ef.hparams["lr"] == 0.001 and ef.hparams["batch_size"] == 32

    ef = read_event_file(realworld("mintomics-v32-truncated-stuck.tfevents"))
    assert len(ef) == 67 and ef.truncated and any("truncated" in w for w in ef.warnings)

    ef = read_event_file(realworld("swahili-keras-tf2-train.tfevents.v2"))
    assert ef.tags == ["epoch_loss"] and len(ef) == 10

    ef = read_event_file(realworld("fashion-mnist-torch-tutorial-mixed.tfevents"))
    assert ef.tags == ["training loss"] and ef.step.tolist() == list(range(999, 15000, 1000))

    ef = read_event_file(realworld("mintomics-v28-hparams-lr-only.tfevents"))
    assert [ef.tags[i] for i in ef.tag_index] == ["hp_metric", "lr-Adam"]
    assert ef.hparams == {"attn_head": 1, "learning_rate": 0.0001, "n_class": 3469, "encoder_layers": 2}

    assert not is_event_file(realworld("swahili-keras.tfevents.profile-empty"))


def test_realworld_as_one_run(tmp_path: Path):
    src = realworld("dlgn-v54-healthy.tfevents")
    run = tmp_path / "lightning_logs" / "version_0"
    run.mkdir(parents=True)
    dst = run / "events.out.tfevents.1712345678.host.1.0"
    dst.write_bytes(src.read_bytes())
    data = read_tfevents_run(run, [dst])
    assert set(data.frame["tag"].unique()) == {"train_loss", "val_loss", "val_acc", "train_acc", "epoch", "hp_metric"}
    dropped = [int(w.split()[0]) for w in data.warnings if "superseded" in w]
    assert data.frame.height + sum(dropped) == len(read_event_file(dst))
    assert data.files == [os.fspath(dst)]
