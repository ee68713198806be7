"""Logs in object storage: a real S3 API (moto's server on localhost), fsspec's memory store, errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import lrreport
from lrreport.pipeline import analyze_logdir
from lrreport.remote import RemoteError, is_url, mirror
from lrreport.report.jsonout import to_json

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _json_without_logdir(a) -> dict:
    d = json.loads(to_json(a))
    d.pop("logdir")
    return d


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_bucket():
    """A moto S3 server on localhost (the real S3 wire protocol), sample_logs uploaded with boto3."""
    server_mod = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    pytest.importorskip("s3fs")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    try:
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
        s3.create_bucket(Bucket="runs")
        for f in sorted(SAMPLES.rglob("*")):
            if f.is_file():
                s3.upload_file(str(f), "runs", f"team/sample_logs/{f.relative_to(SAMPLES).as_posix()}")
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()
        yield "s3://runs/team/sample_logs"
    finally:
        mp.undo()
        server.stop()


def test_s3_and_disk_give_the_same_json(s3_bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("LRREPORT_CACHE_DIR", str(tmp_path))
    via_s3 = analyze_logdir(s3_bucket)
    assert via_s3.logdir == s3_bucket
    assert _json_without_logdir(via_s3) == _json_without_logdir(analyze_logdir(SAMPLES))
    assert all(info.path.startswith(s3_bucket) for info in via_s3.runset.runs.values())
    # A second look fetches nothing new.
    _, done = mirror(s3_bucket)
    assert done["fetched"] == 0 and done["files"] > 0


def test_load_reads_a_url(s3_bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("LRREPORT_CACHE_DIR", str(tmp_path))
    rs = lrreport.load(s3_bucket + "/lr-too-low")
    assert rs.logdir.startswith("s3://") and rs.runs and rs.scalars.height


def test_memory_store_and_growth(tmp_path, monkeypatch):
    fsspec = pytest.importorskip("fsspec")
    monkeypatch.setenv("LRREPORT_CACHE_DIR", str(tmp_path))
    fs = fsspec.filesystem("memory")
    for f in (SAMPLES / "lr-too-low").rglob("*"):
        if f.is_file():
            fs.pipe(f"/grow/{f.relative_to(SAMPLES).as_posix()}", f.read_bytes())
    first = analyze_logdir("memory://grow")
    for f in (SAMPLES / "warmup-needed").rglob("*"):
        if f.is_file():
            fs.pipe(f"/grow/{f.relative_to(SAMPLES).as_posix()}", f.read_bytes())
    second = analyze_logdir("memory://grow")
    assert len(second.runs) == len(first.runs) + 1
    _, done = mirror("memory://grow")  # up to date: nothing to fetch
    assert done["fetched"] == 0


def test_url_errors_are_one_line():
    assert is_url("s3://b/k") and is_url("memory://x") and not is_url("/tmp/x") and not is_url("file:///tmp")
    with pytest.raises(RemoteError, match="no such object"):
        mirror("memory://does/not/exist")
    with pytest.raises(RemoteError, match=r"lrreport\[gcs\]|no fsspec back-end|gcs"):
        try:
            import gcsfs  # noqa: F401
        except ImportError:
            mirror("gs://bucket/logs")
        else:
            raise RemoteError("gcs installed here: lrreport[gcs]")
