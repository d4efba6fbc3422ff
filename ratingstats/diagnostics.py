"""Fit diagnostics: the numbers and pictures a statistician checks before trusting a fit.

:func:`compute` summarises one :class:`~ratingstats.fit.FitResult` and its input into a small,
JSON-serialisable :class:`Diagnostics` (a few tens of kB however many ratings there are):

* variance components with intervals, method, convergence, counts;
* residuals against fitted values as a 2-D histogram (cells with fewer than ``min_cell``
  ratings are dropped, so no single rating can be read off a public page) plus the binned mean
  residual, the line that should be flat;
* normal QQ plots of the standardised residuals and of the predicted drug effects;
* the shrinkage plot: naive mean against adjusted score per item, point area by ratings;
* specialty (rater group) effects with intervals.

:func:`render_svgs` draws the plots as inline SVG with matplotlib's object API (no pyplot, no
global state, safe in a web process) and :func:`fragment_html` lays out one fit as an HTML
fragment.  The product's methodology page and ``drugratings-stats fit --report`` both use
:func:`fragment_html`, so an auditor's report and the public page show the same things.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import ndtri

from .fit import FitResult

__all__ = ["Component", "Diagnostics", "compute", "fragment_html", "render_svgs", "report_html"]

#: Probabilities at which the QQ plots are drawn (a quantile summary, not every point).
QQ_POINTS = 199
HIST_BINS = 36


@dataclass(frozen=True)
class Component:
    name: str
    sd: float
    low: float | None  # None: no interval (method of moments, or on the boundary)
    high: float | None


@dataclass(frozen=True)
class GroupEffect:
    label: str
    effect: float
    low: float
    high: float
    n_ratings: int


@dataclass(frozen=True)
class Diagnostics:
    label: str
    method: str
    cov_method: str
    converged: bool
    convergence: str
    reml_evaluations: int
    warm_start: bool
    seconds: float
    level: float
    n_ratings: int
    n_items: int
    n_raters: int
    mu: float
    components: tuple[Component, ...]
    # Residual vs fitted: histogram edges and counts (rows: residual bins, cols: fitted bins).
    fitted_edges: tuple[float, ...]
    resid_edges: tuple[float, ...]
    counts: tuple[tuple[int, ...], ...]
    binned_fitted: tuple[float, ...]
    binned_resid: tuple[float, ...]
    qq_normal: tuple[float, ...]
    qq_resid: tuple[float, ...]
    qq_effect: tuple[float, ...]
    shrink_naive: tuple[float, ...]
    shrink_estimate: tuple[float, ...]
    shrink_n: tuple[int, ...]
    groups: tuple[GroupEffect, ...]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Diagnostics:
        values = dict(data)
        values["components"] = tuple(Component(**c) for c in data["components"])
        values["groups"] = tuple(GroupEffect(**g) for g in data["groups"])
        for key, value in values.items():
            if isinstance(value, list):
                values[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        return cls(**values)


def _r(values: np.ndarray, digits: int = 4) -> tuple[float, ...]:
    return tuple(float(v) for v in np.round(np.asarray(values, dtype=float), digits))


def _fitted_values(res: FitResult, item, rater, group) -> np.ndarray:
    fixed = res.mu + (0.0 if group is None else np.nan_to_num(res.group_effects)[group])
    return fixed + res.item_effect[item] + res.rater_effect[rater]


def _components(res: FitResult) -> tuple[Component, ...]:
    out = []
    names = ("drug", "rater", "residual")
    for k, (name, sd) in enumerate(
        zip(names, (res.sd_item, res.sd_rater, res.sd_residual), strict=True)
    ):
        low, high = res.component_ci[k]
        ok = bool(np.isfinite(low) and np.isfinite(high))
        out.append(
            Component(
                name,
                round(float(sd), 5),
                round(float(low), 5) if ok else None,
                round(float(high), 5) if ok else None,
            )
        )
    return tuple(out)


def _residual_histogram(fitted: np.ndarray, resid: np.ndarray, min_cell: int):
    f_edges = np.linspace(fitted.min(), fitted.max() + 1e-9, HIST_BINS + 1)
    lim = max(float(np.quantile(np.abs(resid), 0.999)), 1e-6)
    r_edges = np.linspace(-lim, lim, HIST_BINS + 1)
    counts, _, _ = np.histogram2d(np.clip(resid, -lim, lim), fitted, bins=(r_edges, f_edges))
    counts = counts.astype(np.int64)
    counts[counts < min_cell] = 0
    col = np.clip(np.searchsorted(f_edges, fitted, side="right") - 1, 0, HIST_BINS - 1)
    n_col = np.bincount(col, minlength=HIST_BINS)
    s_col = np.bincount(col, weights=resid, minlength=HIST_BINS)
    keep = n_col >= min_cell
    centres = (f_edges[:-1] + f_edges[1:]) / 2
    return f_edges, r_edges, counts, centres[keep], s_col[keep] / n_col[keep]


def _qq(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = (np.arange(1, QQ_POINTS + 1) - 0.5) / QQ_POINTS
    if values.size == 0:
        return ndtri(p), np.full(p.size, np.nan)
    sd = float(values.std())
    z = (values - values.mean()) / (sd if sd > 0 else 1.0)
    return ndtri(p), np.quantile(z, p)


def compute(
    item: np.ndarray,
    rater: np.ndarray,
    score: np.ndarray,
    group: np.ndarray | None,
    res: FitResult,
    *,
    label: str = "",
    group_labels: list[str] | None = None,
    min_cell: int = 1,
    include: np.ndarray | None = None,
) -> Diagnostics:
    """Summarise ``res`` (fitted to these arrays) for display.

    ``min_cell``: histogram cells and binned means with fewer ratings are left out.
    ``include``: boolean mask of the items allowed in the shrinkage plot (the product passes
    its display rule, so no unpublished drug's naive mean appears on a public page).
    """
    item = np.asarray(item, dtype=np.int64)
    rater = np.asarray(rater, dtype=np.int64)
    score = np.asarray(score, dtype=float)
    grp = None if group is None else np.asarray(group, dtype=np.int64)
    fitted = _fitted_values(res, item, rater, grp)
    resid = score - fitted
    sigma = res.sd_residual if res.sd_residual > 0 else 1.0
    f_edges, r_edges, counts, bf, br = _residual_histogram(fitted, resid, min_cell)
    rated = res.n_ratings > 0
    normal, q_resid = _qq(resid / sigma)
    _, q_effect = _qq(res.item_effect[rated])
    naive = np.bincount(item, weights=score, minlength=res.n_items) / np.maximum(res.n_ratings, 1)
    sel = rated if include is None else rated & np.asarray(include, dtype=bool)
    return Diagnostics(
        label=label,
        method=res.method,
        cov_method=res.cov_method,
        converged=bool(res.converged),
        convergence=res.convergence,
        reml_evaluations=int(res.reml_evaluations),
        warm_start=bool(res.warm_start),
        seconds=round(float(res.seconds), 3),
        level=float(res.level),
        n_ratings=int(res.n),
        n_items=int(rated.sum()),
        n_raters=int(np.unique(rater).size),
        mu=round(float(res.mu), 5),
        components=_components(res),
        fitted_edges=_r(f_edges),
        resid_edges=_r(r_edges),
        counts=tuple(tuple(int(c) for c in row) for row in counts),
        binned_fitted=_r(bf),
        binned_resid=_r(br),
        qq_normal=_r(normal),
        qq_resid=_r(q_resid),
        qq_effect=_r(q_effect),
        shrink_naive=_r(naive[sel]),
        shrink_estimate=_r(res.estimate[sel]),
        shrink_n=tuple(int(v) for v in res.n_ratings[sel]),
        groups=_groups(res, grp, group_labels),
    )


def _groups(res: FitResult, group, labels: list[str] | None) -> tuple[GroupEffect, ...]:
    if group is None:
        return ()
    z = float(ndtri(0.5 + res.level / 2.0))
    n = np.bincount(group, minlength=res.group_effects.size)
    out = []
    for g, effect in enumerate(res.group_effects):
        if not np.isfinite(effect):
            continue
        se = float(res.group_se[g]) if g < res.group_se.size else float("nan")
        name = labels[g] if labels is not None and g < len(labels) else f"group {g}"
        out.append(
            GroupEffect(
                name,
                round(float(effect), 5),
                round(float(effect - z * se), 5),
                round(float(effect + z * se), 5),
                int(n[g]),
            )
        )
    return tuple(out)


# --- rendering ------------------------------------------------------------------------------


def _svg(fig, title: str) -> str:
    """Inline SVG: no XML prologue, scalable (viewBox kept, fixed size dropped), titled."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None}, dpi=160)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", text, count=1)
    label = html.escape(title, quote=True)
    return text.replace(
        "<svg", f'<svg role="img" aria-label="{label}" class="diag-plot"', 1
    ).replace(">", f"><title>{label}</title>", 1)


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 3.4), dpi=100)
    ax = fig.add_subplot()
    ax.tick_params(labelsize=8)
    return fig, ax


def _plot_residuals(d: Diagnostics) -> str:
    fig, ax = _figure()
    counts = np.array(d.counts, dtype=float)
    masked = np.ma.masked_where(counts == 0, counts)
    # Rasterised: one small embedded image instead of a vector path per cell.
    mesh = ax.pcolormesh(
        d.fitted_edges, d.resid_edges, masked, cmap="Blues", shading="flat", rasterized=True
    )
    fig.colorbar(mesh, ax=ax, label="ratings").ax.tick_params(labelsize=7)
    ax.plot(d.binned_fitted, d.binned_resid, color="#b3261e", lw=1.6, label="mean residual")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("fitted value", fontsize=9)
    ax.set_ylabel("residual", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return _svg(fig, f"{d.label}: residuals against fitted values")


def _plot_qq(d: Diagnostics, sample: tuple[float, ...], what: str) -> str:
    fig, ax = _figure()
    x = np.asarray(d.qq_normal)
    ax.plot(x, sample, "o", ms=2.5, color="#1f5fa8")
    lim = [float(np.nanmin([x.min(), np.nanmin(sample)])), float(np.nanmax([x.max(), *sample]))]
    ax.plot(lim, lim, color="black", lw=0.8)
    ax.set_xlabel("normal quantile", fontsize=9)
    ax.set_ylabel(f"standardised {what} quantile", fontsize=9)
    return _svg(fig, f"{d.label}: normal QQ plot of {what}s")


def _plot_shrinkage(d: Diagnostics) -> str:
    fig, ax = _figure()
    n = np.asarray(d.shrink_n, dtype=float)
    size = 4.0 + 60.0 * np.sqrt(n / max(n.max(), 1.0)) if n.size else n
    # Rasterised: thousands of drugs would otherwise be thousands of SVG paths (650 kB).
    ax.scatter(
        d.shrink_naive,
        d.shrink_estimate,
        s=size,
        alpha=0.45,
        color="#1f5fa8",
        lw=0,
        rasterized=True,
    )
    ax.plot([1, 5], [1, 5], color="black", lw=0.8, label="no shrinkage")
    ax.axhline(d.mu, color="#b3261e", lw=0.8, ls="--", label="overall mean")
    ax.set_xlabel("naive mean of ratings", fontsize=9)
    ax.set_ylabel("adjusted score", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return _svg(fig, f"{d.label}: shrinkage of naive means (point area by ratings)")


def _plot_groups(d: Diagnostics) -> str:
    from matplotlib.figure import Figure

    k = len(d.groups)
    fig = Figure(figsize=(4.6, max(1.6, 0.22 * k + 0.8)), dpi=100)
    ax = fig.add_subplot()
    ax.tick_params(labelsize=7)
    y = np.arange(k)
    eff = np.array([g.effect for g in d.groups])
    err = np.array([[g.effect - g.low for g in d.groups], [g.high - g.effect for g in d.groups]])
    ax.errorbar(eff, y, xerr=err, fmt="o", ms=3, color="#1f5fa8", lw=1)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(y, [g.label for g in d.groups])
    ax.invert_yaxis()
    ax.set_xlabel("specialty effect (points, vs overall mean)", fontsize=9)
    return _svg(fig, f"{d.label}: specialty effects with {d.level:.0%} intervals")


def render_svgs(d: Diagnostics) -> dict[str, str]:
    """The five plots as inline SVG strings, keyed by name."""
    out = {
        "residuals": _plot_residuals(d),
        "qq_residuals": _plot_qq(d, d.qq_resid, "residual"),
        "qq_effects": _plot_qq(d, d.qq_effect, "drug effect"),
        "shrinkage": _plot_shrinkage(d),
    }
    if d.groups:
        out["groups"] = _plot_groups(d)
    return out


def _fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def fragment_html(d: Diagnostics, svgs: dict[str, str] | None = None) -> str:
    """One fit's diagnostics as an HTML fragment (tables + inline SVG); all text escaped."""
    e = html.escape
    svgs = svgs if svgs is not None else render_svgs(d)
    level = f"{d.level:.0%}"
    rows = "".join(
        f"<tr><th scope='row'>{e(c.name)}</th><td>{_fmt(c.sd)}</td>"
        f"<td class='nowrap'>{_fmt(c.low)} – {_fmt(c.high)}</td></tr>"
        if c.low is not None
        else f"<tr><th scope='row'>{e(c.name)}</th><td>{_fmt(c.sd)}</td><td>not available</td></tr>"
        for c in d.components
    )
    status = "converged" if d.converged else "DID NOT CONVERGE"
    message = d.convergence
    if d.converged and "trust-region radius" in message:
        message = "trust region shrank to its final radius"
    evals = f", {d.reml_evaluations} criterion evaluations" if d.method == "reml" else ""
    warm = ", warm start from the previous fit" if d.warm_start else ""
    groups = "".join(
        f"<tr><th scope='row'>{e(g.label)}</th><td>{g.effect:+.3f}</td>"
        f"<td class='nowrap'>{g.low:+.3f} – {g.high:+.3f}</td><td>{g.n_ratings:,}</td></tr>"
        for g in d.groups
    )
    # The plot shows the same; the table (often 20+ rows) is there for exact numbers.
    group_table = (
        f"<details class='diag-details'><summary>Specialty effects as a table "
        f"({len(d.groups)} specialties)</summary>"
        f"<div class='diag-scroll'>"
        f"<table class='diag-table'><caption>Specialty effects ({level} intervals)</caption>"
        f"<thead><tr><th scope='col'>specialty</th><th scope='col'>effect</th>"
        f"<th scope='col'>interval</th><th scope='col'>ratings</th></tr></thead>"
        f"<tbody>{groups}</tbody></table></div></details>"
        if d.groups
        else ""
    )
    figures = "".join(
        f"<figure class='diag-figure'>{svg}<figcaption>{e(caption)}</figcaption></figure>"
        for key, caption in (
            ("residuals", "Residuals against fitted values (ratings per cell; line: mean)"),
            ("qq_residuals", "Normal QQ plot of standardised residuals"),
            ("qq_effects", "Normal QQ plot of the drug effects"),
            ("shrinkage", "Naive mean against adjusted score (area: number of ratings)"),
            ("groups", f"Specialty effects with {level} intervals"),
        )
        if (svg := svgs.get(key))
    )
    return (
        f"<section class='diagnostics'><h3>{e(d.label)}</h3>"
        f"<p class='diag-meta'>Method <strong>{e(d.method.upper())}</strong> "
        f"(covariance {e(d.cov_method)}); {status} ({e(message)}{evals}{warm}); "
        f"{d.n_ratings:,} ratings of {d.n_items:,} drugs by {d.n_raters:,} raters; "
        f"overall mean {d.mu:.3f}; fitted in {d.seconds:.1f} s.</p>"
        f"<table class='diag-table'><caption>Variance components (SD, {level} intervals)"
        f"</caption><thead><tr><th scope='col'>component</th><th scope='col'>SD</th>"
        f"<th scope='col'>interval</th></tr></thead><tbody>{rows}</tbody></table>"
        f"{group_table}<div class='diag-grid'>{figures}</div></section>"
    )


REPORT_CSS = """
body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;color:#111}
.diag-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr));gap:1rem}
.diag-figure{margin:0}.diag-figure svg{width:100%;height:auto}
.diag-figure figcaption{font-size:.85rem;color:#444}
.diag-table{border-collapse:collapse;margin:.5rem 0 1rem}
.diag-table th,.diag-table td{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}
.diag-table caption{text-align:left;font-weight:600}.nowrap{white-space:nowrap}
.diag-scroll{overflow-x:auto}
"""


def report_html(diags: list[Diagnostics], title: str, note: str = "") -> str:
    """A standalone HTML report (``drugratings-stats fit --report``)."""
    body = "".join(fragment_html(d) for d in diags)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{REPORT_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(note)}</p>{body}</body></html>\n"
    )
