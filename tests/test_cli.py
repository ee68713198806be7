"""`lrreport ls` and the CLI's handling of bad input (click's CliRunner)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import curve, write_keras_csv

from lrreport.cli import main


def _logs(tmp_path):
    write_keras_csv(tmp_path / "good" / "training.log", {"loss": curve(8), "val_loss": curve(8, 2.4, 0.5), "lr": [0.01] * 8})
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "trainer_state.json").write_text("{broken")
    return tmp_path


def test_ls_table_and_json(tmp_path):
    logs = _logs(tmp_path)
    res = CliRunner().invoke(main, ["ls", str(logs)])
    assert res.exit_code == 0, res.output
    assert "good" in res.output and "keras_csv" in res.output and "1 runs" in res.output
    assert "unreadable:" in res.output and "trainer_state.json" in res.output
    res = CliRunner().invoke(main, ["ls", str(logs), "--json"])
    doc = json.loads(res.output)
    assert [r["run"] for r in doc["runs"]] == ["good"]
    assert {"train_loss", "val_loss", "lr"} <= set(doc["runs"][0]["metrics"])
    assert doc["errors"][0]["path"].endswith("trainer_state.json")


def test_ls_nothing_readable_is_exit_2(tmp_path):
    (tmp_path / "trainer_state.json").write_text("{broken")
    res = CliRunner().invoke(main, ["ls", str(tmp_path)])
    assert res.exit_code == 2


def test_bad_config_and_missing_path(tmp_path):
    logs = _logs(tmp_path)
    (tmp_path / "c.toml").write_text("x = [")
    res = CliRunner().invoke(main, ["analyze", str(logs), "--config", str(tmp_path / "c.toml"), "--no-html"])
    assert res.exit_code == 2 and "invalid TOML" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["analyze", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_unreadable_file_reported_and_others_analysed(tmp_path):
    logs = _logs(tmp_path)
    res = CliRunner().invoke(main, ["analyze", str(logs), "--json", "-", "--no-html", "-q"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert [r["run"] for r in doc["runs"]] == ["good"]
    (err,) = doc["errors"]
    assert err["path"].endswith("trainer_state.json") and "invalid JSON" in err["error"]


def test_suppress_option(tmp_path):
    logs = _logs(tmp_path)
    res = CliRunner().invoke(main, ["analyze", str(logs), "--json", "-", "--no-html", "-q", "--suppress", "no_lr_logged", "--suppress", "lr_too_low"])
    doc = json.loads(res.stdout)
    codes = {f["code"] for r in doc["runs"] for f in r["findings"]}
    assert not codes & {"no_lr_logged", "lr_too_low"}
