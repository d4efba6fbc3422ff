"""Markdown/HTML report with PNG figures (matplotlib, Agg backend)."""

from __future__ import annotations

import datetime as dt
import html
import json
import platform
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .study import Study

__all__ = ["summary_table", "write_report"]


def summary_table(st: Study) -> str:
    w = max(len(r.check) for r in st.rows)
    lines = [f"{'check':{w}s}  {'value':>8s}  {'target':12s}  result", "-" * (w + 36)]
    for r in st.rows:
        res = "info" if r.ok is None else ("PASS" if r.ok else "FAIL")
        lines.append(f"{r.check:{w}s}  {r.fmt_value():>8s}  {r.target:12s}  {res}")
    return "\n".join(lines)


def _fig_coverage(st: Study, path: Path) -> None:
    rows = [r for r in st.rows if r.check.startswith(("coverage", "rank-interval"))]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows, strict=True):
        n = int(r.detail.split()[0])
        se = np.sqrt(r.value * (1 - r.value) / n)
        color = "grey" if r.ok is None else ("tab:green" if r.ok else "tab:red")
        ax.errorbar(r.value, yi, xerr=1.96 * se, fmt="o", color=color)
    ax.axvspan(0.93, 0.97, color="tab:green", alpha=0.12, label="target 93-97%")
    ax.axvline(0.95, color="k", lw=0.8)
    ax.set_yticks(y, [r.check for r in rows], fontsize=8)
    ax.set_xlabel("coverage of nominal 95% intervals (bars: 95% binomial CI)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fig_coverage_by_n(st: Study, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    bins = [1, 2, 3, 5, 10, 20, 40, 80, 10_000]
    for name in ("random", "new_drugs", "new_drugs/large path", "specialty_confounded"):
        recs = st.records[name]
        cov = np.concatenate([r.covered for r in recs])
        n = np.concatenate([r.n_ratings for r in recs])
        idx = np.digitize(n, bins) - 1
        xs, ys = [], []
        for b in range(len(bins) - 1):
            m = idx == b
            if m.sum() >= 50:
                xs.append(np.sqrt(bins[b] * min(bins[b + 1], n.max() + 1)))
                ys.append(cov[m].mean())
        ax.plot(xs, ys, "o-", label=name)
    ax.axhspan(0.93, 0.97, color="tab:green", alpha=0.12)
    ax.set_xscale("log")
    ax.set_xlabel("ratings of the drug (bin, log scale)")
    ax.set_ylabel("coverage")
    ax.set_ylim(0.85, 1.0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fig_rmse(st: Study, path: Path) -> None:
    names = [
        "severity_confounded",
        "specialty_confounded",
        "random",
        "no_rater_variance",
        "new_drugs",
    ]
    model = [
        np.sqrt(np.mean(np.concatenate([r.err_model for r in st.records[k]]) ** 2)) for k in names
    ]
    naive = [
        np.sqrt(np.mean(np.concatenate([r.err_naive for r in st.records[k]]) ** 2)) for k in names
    ]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ax.bar(x - 0.2, naive, 0.4, label="naive per-drug mean")
    ax.bar(x + 0.2, model, 0.4, label="crossed model (average rater)")
    ax.set_xticks(x, names, fontsize=8, rotation=15)
    ax.set_ylabel("RMSE vs true drug score")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fig_heldout(st: Study, path: Path) -> None:
    h = st.heldout
    x = np.arange(len(h))
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.bar(x - 0.27, [r.rmse_grand_mean for r in h], 0.27, label="grand mean")
    ax.bar(x, [r.rmse_naive for r in h], 0.27, label="per-drug mean")
    ax.bar(x + 0.27, [r.rmse_model for r in h], 0.27, label="crossed model")
    ax.set_xticks(x, [r.dimension for r in h], fontsize=8)
    ax.set_ylabel("held-out RMSE (1-5 scale)")
    lo = min(min(r.rmse_model, r.rmse_naive, r.rmse_grand_mean) for r in h)
    ax.set_ylim(lo * 0.9, None)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(st: Study, out: Path, command: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    figs = {
        "coverage.png": ("Interval and rank-interval coverage", _fig_coverage),
        "coverage_by_n.png": ("Coverage by number of ratings", _fig_coverage_by_n),
        "rmse.png": ("Drug-score RMSE: model vs naive mean", _fig_rmse),
        "druglib_heldout.png": ("Held-out RMSE on the Druglib reviews", _fig_heldout),
    }
    for fname, (_, fn) in figs.items():
        fn(st, out / fname)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    verdict = "ALL TARGETS MET" if st.passed else "SOME TARGETS FAILED"
    md = [
        "# ratingstats validation study",
        "",
        f"Run {when} with `{command}` ({st.reps} replicates per scenario; "
        f"{st.seconds:.0f} s on {platform.machine()}, Python {platform.python_version()}).",
        "",
        f"**{verdict}.**",
        "",
        "| check | value | target | result | detail |",
        "|---|---|---|---|---|",
    ]
    for r in st.rows:
        res = "info" if r.ok is None else ("PASS" if r.ok else "**FAIL**")
        md.append(f"| {r.check} | {r.fmt_value()} | {r.target} | {res} | {r.detail} |")
    md += [
        "",
        "Scenarios are described in `ratingstats/validation/simulate.py`; the targets in",
        "`ratingstats/validation/study.py`; the method in `METHODOLOGY.md`.",
        "",
    ]
    for fname, (title, _) in figs.items():
        md += [f"## {title}", "", f"![{title}]({fname})", ""]
    (out / "report.md").write_text("\n".join(md))
    body = [
        f"<h1>ratingstats validation study</h1><p>Run {html.escape(when)} with "
        f"<code>{html.escape(command)}</code>; {st.seconds:.0f} s.</p>",
        f"<p><b>{verdict}</b></p><table border=1 cellpadding=4 style='border-collapse:"
        "collapse;font-size:90%'><tr><th>check</th><th>value</th><th>target</th>"
        "<th>result</th><th>detail</th></tr>",
    ]
    for r in st.rows:
        res = "info" if r.ok is None else ("PASS" if r.ok else "FAIL")
        body.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(c))}</td>"
                for c in (r.check, r.fmt_value(), r.target, res, r.detail)
            )
            + "</tr>"
        )
    body.append("</table>")
    for fname, (title, _) in figs.items():
        body.append(f"<h2>{html.escape(title)}</h2><img src='{fname}' alt='{title}'>")
    (out / "report.html").write_text(
        "<!doctype html><meta charset=utf-8><title>ratingstats validation</title>" + "\n".join(body)
    )
    (out / "results.json").write_text(
        json.dumps(
            {
                "when": when,
                "command": command,
                "seconds": st.seconds,
                "passed": st.passed,
                "rows": [r.__dict__ for r in st.rows],
                "heldout": [h.__dict__ for h in st.heldout],
            },
            indent=2,
        )
    )
    return out / "report.md"
