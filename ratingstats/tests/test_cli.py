"""The auditors' command line: output format, summary, and rejection of malformed input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ratingstats.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "results" / "confounded.csv"


def test_fit_writes_items_and_summary(tmp_path):
    out, summ = tmp_path / "out.csv", tmp_path / "s.json"
    assert main(["fit", str(FIXTURE), "-o", str(out), "--summary", str(summ)]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["item", "estimate", "ci_low", "ci_high", "n_ratings", "n_raters"]
    assert len(rows) == 60 and rows[0]["item"] == "drug_00"
    for r in rows:
        assert float(r["ci_low"]) < float(r["estimate"]) < float(r["ci_high"])
    s = json.loads(summ.read_text())
    assert {"n", "mu", "sd_item", "sd_rater", "sd_residual", "seconds"} <= set(s)
    assert s["n"] == 1653


def test_python_dash_m(tmp_path):
    out = tmp_path / "o.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "ratingstats", "fit", str(FIXTURE), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "line 1: empty file"),
        ("item,score\na,3\n", "line 1: header lacks column(s) rater"),
        ("item,rater,score\na,b,3\na,c,x\n", "line 3: score 'x' is not a number"),
        ("item,rater,score\na,b,3\n,c,4\n", "line 3: empty field 'item'"),
        ("item,rater,score\na,b,3\na,c,\n", "line 3: empty field 'score'"),
        ("item,rater,score\na,b,3\na,c,nan\n", "line 3: score 'nan' is not a finite"),
        ("item,rater,score\na,b,3\na,c\n", "line 3: expected 3 fields, found 2"),
        ("item,rater,rater_group,score\na,b,g,3\na,c,,4\n", "line 3: empty field 'rater_group'"),
        ("item,rater,score\n", "no data rows"),
    ],
)
def test_malformed_input(tmp_path, capsys, content, fragment):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(content)
    assert main(["fit", str(src), "-o", str(out), "--summary", str(tmp_path / "s.json")]) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "s.json").exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary files left behind


def test_missing_file(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
