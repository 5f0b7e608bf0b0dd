"""``urbanbrain lake`` as an operator runs it against the district's database and data directory."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.conftest import TEST_PII_KEY, TEST_SECRET
from urbanbrain.cli.main import app as cli


def test_rebuild_inspect_compact_and_drain(seeded, monkeypatch):
    s = seeded.settings
    for name, value in {"DATABASE_URL": s.database_url, "DATA_DIR": str(s.data_dir), "PII_KEY": TEST_PII_KEY,
                        "SECRET_KEY": TEST_SECRET}.items():  # fmt: skip
        monkeypatch.setenv(f"URBANBRAIN_{name}", value)
    runner = CliRunner()

    rebuilt = runner.invoke(cli, ["lake", "rebuild", "--table", "buildings"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "buildings:" in rebuilt.output and "record(s) landed" in rebuilt.output
    runner.invoke(cli, ["lake", "rebuild", "--table", "buildings"])  # twice: still one file, same records

    shown = runner.invoke(cli, ["lake", "inspect", "--json"])
    assert shown.exit_code == 0, shown.output
    buildings = json.loads(shown.output)["buildings"]
    assert buildings["files"] == 1 and buildings["records"] == buildings["rows"] > 0
    assert json.loads(shown.output)["cases"]["files"] == 0

    compacted = runner.invoke(cli, ["lake", "compact"])
    assert compacted.exit_code == 0, compacted.output
    assert "buildings: 0 partition(s) compacted, files 1 -> 1" in compacted.output

    assert runner.invoke(cli, ["lake", "inspect"]).exit_code == 0
    drained = runner.invoke(cli, ["lake", "drain"])
    assert drained.exit_code == 0 and "row(s) landed" in drained.output
    unknown = runner.invoke(cli, ["lake", "rebuild", "--table", "nope"])
    assert unknown.exit_code == 2 and "lake.unknown_table" in unknown.output
