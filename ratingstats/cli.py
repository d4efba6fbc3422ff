"""Command line for outside auditors: ``drugratings-stats fit INPUT.csv -o OUTPUT.csv``.

Input: a CSV (or gzip-compressed ``.csv.gz``) with a header naming at least ``item,rater,score``
and optionally ``rater_group``; labels are arbitrary strings.  Output: one row per item,
``item,estimate,ci_low,ci_high,n_ratings,n_raters`` (sorted by item label), and optionally a
JSON summary.  Malformed input is reported on stderr with its line number and exit status 2;
outputs are written to a temporary file and renamed, so a failed run leaves no output behind.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import sys
import tempfile
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fit import MIN_RATERS_SHOWN, fit_crossed

__all__ = ["InputError", "RatingsTable", "main", "read_ratings"]

REQUIRED = ("item", "rater", "score")


class InputError(ValueError):
    """Malformed input; the message names the line."""


@dataclass(frozen=True)
class RatingsTable:
    item: np.ndarray
    rater: np.ndarray
    score: np.ndarray
    group: np.ndarray | None
    item_labels: list[str]
    rater_labels: list[str]
    group_labels: list[str] | None


def _sorted_codes(codes: np.ndarray, labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Recode so that code order is label order (R's factor levels, hence lme4's reference)."""
    order = sorted(range(len(labels)), key=labels.__getitem__)
    remap = np.empty(len(labels), dtype=np.int32)
    remap[order] = np.arange(len(labels), dtype=np.int32)
    return remap[codes], [labels[i] for i in order]


def read_ratings(path: str | os.PathLike[str]) -> RatingsTable:
    """Stream-parse a ratings CSV into integer codes and float scores.

    Rows go straight into typed ``array`` buffers (4 or 8 bytes per value), so a 10-million-row
    file needs about 200 MB, not the gigabytes that lists of Python objects would take.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(
                "line 1: empty file (expected a header with item,rater,score)"
            ) from None
        except csv.Error as exc:
            raise InputError(f"line {reader.line_num}: {exc}") from None
        names = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise InputError(f"line 1: header lacks column(s) {', '.join(missing)}")
        ii, ri, si = (names.index(c) for c in REQUIRED)
        gi = names.index("rater_group") if "rater_group" in names else None
        width = len(names)
        codes: list[dict[str, int]] = [{}, {}, {}]
        cols = [array("i"), array("i"), array("i")]
        scores = array("d")
        try:
            for row in reader:
                line = reader.line_num
                if not row:
                    continue  # blank line
                if len(row) != width:
                    raise InputError(f"line {line}: expected {width} fields, found {len(row)}")
                for k, j in enumerate((ii, ri, gi)):
                    if j is None:
                        continue
                    label = row[j]
                    if not label.strip():
                        raise InputError(f"line {line}: empty field '{names[j]}'")
                    table = codes[k]
                    code = table.get(label)
                    if code is None:
                        code = table[label] = len(table)
                    cols[k].append(code)
                text = row[si].strip()
                if not text:
                    raise InputError(f"line {line}: empty field 'score'")
                try:
                    value = float(text)
                except ValueError:
                    raise InputError(f"line {line}: score {text!r} is not a number") from None
                if not math.isfinite(value):
                    raise InputError(f"line {line}: score {text!r} is not a finite number")
                scores.append(value)
        except csv.Error as exc:
            raise InputError(f"line {reader.line_num}: {exc}") from None
    if not scores:
        raise InputError("line 2: no data rows after the header")
    item, item_labels = _sorted_codes(np.frombuffer(cols[0], dtype=np.int32), list(codes[0]))
    rater, rater_labels = _sorted_codes(np.frombuffer(cols[1], dtype=np.int32), list(codes[1]))
    group = group_labels = None
    if gi is not None:
        group, group_labels = _sorted_codes(np.frombuffer(cols[2], dtype=np.int32), list(codes[2]))
    return RatingsTable(
        item=item,
        rater=rater,
        score=np.frombuffer(scores, dtype=np.float64),
        group=group,
        item_labels=item_labels,
        rater_labels=rater_labels,
        group_labels=group_labels,
    )


def _atomic_write(target: Path, write) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            write(fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cmd_fit(args: argparse.Namespace) -> int:
    try:
        tab = read_ratings(args.input)
    except FileNotFoundError:
        print(f"error: {args.input}: no such file", file=sys.stderr)
        return 2
    except (InputError, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        print(f"error: {args.input}: {exc}", file=sys.stderr)
        return 2
    try:
        res = fit_crossed(
            tab.item,
            tab.rater,
            tab.score,
            tab.group,
            level=args.level,
            method=args.method,
            cov=args.cov,
            # The component intervals cost 6 more REML evaluations; only the report shows them.
            intervals=bool(args.report),
        )
    except ValueError as exc:
        print(f"error: {args.input}: {exc}", file=sys.stderr)
        return 2

    def write_items(fh) -> None:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("item", "estimate", "ci_low", "ci_high", "n_ratings", "n_raters"))
        for k, label in enumerate(tab.item_labels):
            w.writerow(
                (
                    label,
                    f"{res.estimate[k]:.6f}",
                    f"{res.ci_low[k]:.6f}",
                    f"{res.ci_high[k]:.6f}",
                    int(res.n_ratings[k]),
                    int(res.n_raters[k]),
                )
            )

    summary = {
        "n": res.n,
        "mu": res.mu,
        "sd_item": res.sd_item,
        "sd_rater": res.sd_rater,
        "sd_residual": res.sd_residual,
        "seconds": res.seconds,
        "method": res.method,
        "cov_method": res.cov_method,
        "level": res.level,
        "n_items": res.n_items,
        "n_raters": len(tab.rater_labels),
        "min_raters_shown": MIN_RATERS_SHOWN,
    }
    if tab.group_labels is not None:
        summary["group_effects"] = {
            g: float(res.group_effects[k]) for k, g in enumerate(tab.group_labels)
        }
    summary["converged"] = res.converged
    summary["convergence"] = res.convergence
    report = _report(args, tab, res) if args.report else None
    _atomic_write(Path(args.output), write_items)
    if args.summary:
        _atomic_write(Path(args.summary), lambda fh: json.dump(summary, fh, indent=2))
    if report is not None:
        _atomic_write(Path(args.report), lambda fh: fh.write(report))
    return 0


def _report(args: argparse.Namespace, tab: RatingsTable, res) -> str:
    """The HTML diagnostics report, built before any output is written (all or nothing)."""
    from . import diagnostics

    diag = diagnostics.compute(
        tab.item,
        tab.rater,
        tab.score,
        tab.group,
        res,
        label=Path(args.input).name,
        group_labels=tab.group_labels,
    )
    note = (
        f"drugratings-stats fit {args.input} --method {args.method}: "
        "score ~ rater_group + (1|item) + (1|rater)."
    )
    return diagnostics.report_html([diag], f"Fit diagnostics: {Path(args.input).name}", note)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="drugratings-stats",
        description="Rater-adjusted drug scores: lme4's score ~ group + (1|item) + (1|rater).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit one rating dimension from a CSV file")
    f.add_argument("input", help="CSV with header item,rater,score[,rater_group]")
    f.add_argument("-o", "--output", required=True, help="per-item CSV to write")
    f.add_argument("--summary", help="JSON file for n, mu, sd_item, sd_rater, sd_residual, ...")
    f.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    f.add_argument(
        "--report", help="HTML file for the fit diagnostics (variance components, plots)"
    )
    f.add_argument(
        "--method",
        choices=("auto", "reml", "moments"),
        default="auto",
        help="variance components: 'auto' (default) is REML up to 6,000 items + specialties "
        "(any number of ratings), the method of moments above",
    )
    f.add_argument("--cov", choices=("auto", "exact", "approx"), default="auto")
    f.set_defaults(func=_cmd_fit)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
