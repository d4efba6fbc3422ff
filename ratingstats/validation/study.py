"""Run the validation study and check its targets.

Targets (from the engineering issue; a failed target makes the command exit non-zero):

* 95% interval coverage within [93%, 97%] under random assignment, specialty-confounded
  severity, and for new drugs with fewer than 20 ratings -- for the exact path (REML + exact
  covariance) and for the large-problem path (moments + approximate covariance);
* drug-score RMSE at least 30% below the naive per-drug mean when rater severity drives drug
  choice, and at most 2% above it when raters do not differ;
* variance-component bias within 10% (relative, on the variance scale);
* rank-interval coverage within [93%, 97%];
* held-out RMSE on the real Druglib reviews below the per-drug mean's, for every dimension.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .druglib import HeldOut, held_out
from .sensitivity import run_sensitivity
from .simulate import SD, Record, draw, evaluate

__all__ = ["Row", "Study", "run_study"]

LARGE = {"method": "moments", "cov": "approx"}


@dataclass
class Row:
    check: str
    value: float
    target: str
    ok: bool | None  # None: reported, not a target
    detail: str = ""

    def __post_init__(self) -> None:
        self.value = float(self.value)
        self.ok = None if self.ok is None else bool(self.ok)

    def fmt_value(self) -> str:
        return f"{self.value:.3f}" if abs(self.value) < 100 else f"{self.value:.0f}"


@dataclass
class Study:
    rows: list[Row] = field(default_factory=list)
    records: dict[str, list[Record]] = field(default_factory=dict)
    heldout: list[HeldOut] = field(default_factory=list)
    seconds: float = 0.0
    reps: int = 0

    @property
    def passed(self) -> bool:
        return all(r.ok is not False for r in self.rows)


def _coverage(recs: list[Record], max_n: int | None = None) -> tuple[float, int]:
    cov = np.concatenate([r.covered for r in recs])
    n = np.concatenate([r.n_ratings for r in recs])
    if max_n is not None:
        cov = cov[n < max_n]
    return float(cov.mean()), int(cov.size)


def _rmse(recs: list[Record], which: str) -> float:
    e = np.concatenate([getattr(r, which) for r in recs])
    return float(np.sqrt(np.mean(e**2)))


def _cov_row(name: str, recs: list[Record], max_n: int | None = None, target: bool = True) -> Row:
    c, m = _coverage(recs, max_n)
    se = np.sqrt(c * (1 - c) / m)
    return Row(
        name,
        c,
        "0.93-0.97" if target else "(reported)",
        (0.93 <= c <= 0.97) if target else None,
        f"{m} intervals, binomial SE {se:.3f}",
    )


def run_study(reps: int = 100, large_reps: int = 5, seed: int = 2024, log=print) -> Study:
    """Run every scenario; ``reps`` replicates per small scenario, ``large_reps`` at 20x."""
    t0 = time.perf_counter()
    st = Study(reps=reps)
    half = max(reps // 2, 2)
    plan = [
        ("random", dict(reps=reps)),
        ("specialty_confounded", dict(reps=reps)),
        ("specialty_confounded/no group term", dict(reps=half, use_group=False)),
        ("new_drugs", dict(reps=reps)),
        ("severity_confounded", dict(reps=half)),
        ("no_rater_variance", dict(reps=half)),
        ("rank_classes", dict(reps=reps, ranks=True)),
        ("ordinal", dict(reps=half)),
        ("random/large path", dict(reps=large_reps, scale=20, **LARGE)),
        ("specialty_confounded/large path", dict(reps=large_reps, scale=20, **LARGE)),
        ("new_drugs/large path", dict(reps=large_reps, scale=20, **LARGE)),
    ]
    for name, kw in plan:
        t = time.perf_counter()
        scenario = name.split("/")[0]
        # Seeds keyed by name would use Python's salted hash; use the position instead.
        kw = dict(kw)
        n = kw.pop("reps")
        rng_seed = seed * 100 + [p[0] for p in plan].index(name)
        st.records[name] = _run(scenario, n, rng_seed, **kw)
        log(f"  {name:38s} {n:4d} replicates  {time.perf_counter() - t:6.1f} s")

    R = st.records
    st.rows += [
        _cov_row("coverage: (a) random assignment", R["random"]),
        _cov_row("coverage: (b) specialty-confounded severity", R["specialty_confounded"]),
        _cov_row("coverage: (c) new drugs, < 20 ratings", R["new_drugs"], max_n=20),
        _cov_row("coverage: (a) large path (moments + approx cov)", R["random/large path"]),
        _cov_row("coverage: (b) large path", R["specialty_confounded/large path"]),
        _cov_row("coverage: (c) large path, < 20 ratings", R["new_drugs/large path"], max_n=20),
        _cov_row(
            "coverage: (b) WITHOUT the group term",
            R["specialty_confounded/no group term"],
            target=False,
        ),
        _cov_row("coverage: severity drives drug choice", R["severity_confounded"], target=False),
        _cov_row("coverage: integer 1-5 scores with ceiling", R["ordinal"], target=False),
    ]
    for name, bound, better in (
        ("severity_confounded", 0.70, "RMSE ratio model/naive, severity drives drug choice"),
        ("no_rater_variance", 1.02, "RMSE ratio model/naive, raters do not differ"),
        ("specialty_confounded", None, "RMSE ratio model/naive, specialty-confounded"),
    ):
        ratio = _rmse(R[name], "err_model") / _rmse(R[name], "err_naive")
        target = f"<= {bound:.2f}" if bound else "(reported)"
        st.rows.append(
            Row(
                better,
                ratio,
                target,
                (ratio <= bound) if bound else None,
                f"model {_rmse(R[name], 'err_model'):.3f}, naive {_rmse(R[name], 'err_naive'):.3f}",
            )
        )
    truth = np.array(SD) ** 2
    for name, label in (("random", "REML"), ("random/large path", "moments")):
        est = np.array([r.var_hat for r in R[name]])
        for k, comp in enumerate(("item", "rater", "residual")):
            bias = est[:, k].mean() / truth[k] - 1
            se = est[:, k].std(ddof=min(1, len(est) - 1)) / np.sqrt(len(est)) / truth[k]
            st.rows.append(
                Row(
                    f"variance bias: {comp} ({label})",
                    bias,
                    "-0.10..0.10",
                    abs(bias) <= 0.10,
                    f"mean {est[:, k].mean():.4f} vs true {truth[k]:.4f}, MC SE {se:.3f}",
                )
            )
    rk = np.concatenate([r.rank_covered for r in R["rank_classes"]])
    st.rows.append(
        Row(
            "rank-interval coverage (classes of 10)",
            float(rk.mean()),
            "0.93-0.97",
            0.93 <= rk.mean() <= 0.97,
            f"{rk.size} rank intervals",
        )
    )
    t = time.perf_counter()
    st.heldout = held_out()
    log(f"  {'druglib held-out':38s}                  {time.perf_counter() - t:6.1f} s")
    for h in st.heldout:
        st.rows.append(
            Row(
                f"Druglib held-out RMSE ratio: {h.dimension}",
                h.rmse_model / h.rmse_naive,
                "< 1",
                h.rmse_model < h.rmse_naive,
                f"model {h.rmse_model:.4f}, per-drug mean {h.rmse_naive:.4f}, "
                f"grand mean {h.rmse_grand_mean:.4f}; {h.n_train} train / {h.n_test} test",
            )
        )
    t = time.perf_counter()
    st.rows += sensitivity_rows()
    log(
        f"  {'sensitivity (ordinal, class severity)':38s}                  "
        f"{time.perf_counter() - t:6.1f} s"
    )
    st.seconds = time.perf_counter() - t0
    return st


def sensitivity_rows() -> list[Row]:
    """Issue 14: the linear model against an ordinal reference and class-specific severity."""
    o, c, meta = run_sensitivity()
    bias = np.abs(np.array(c.bias_by_class))
    return [
        Row(
            "ordinal: Kendall tau, our scores vs clmm",
            o.tau_ours_clmm,
            ">= 0.90",
            o.tau_ours_clmm >= 0.90,
            f"{o.n} ratings of {o.n_items} drugs, {o.share_at_ceiling:.0%} at the ceiling (5); "
            f"reference {meta['formula']}, ordinal {meta['ordinal_version']}",
        ),
        Row(
            "ordinal: tau vs clmm, top quartile of drugs",
            o.tau_ours_clmm_top_quartile,
            "(reported)",
            None,
            "where the ceiling compresses the scale",
        ),
        Row(
            "ordinal: tau vs true drug effects (ours)",
            o.tau_ours_truth,
            "(reported)",
            None,
            f"clmm {o.tau_clmm_truth:.3f}, naive mean {o.tau_naive_truth:.3f}",
        ),
        Row(
            f"class severity {c.shift:.1f} pt: max class bias (points)",
            float(bias.max()),
            "(reported)",
            None,
            "per-class mean error: " + ", ".join(f"{b:+.3f}" for b in c.bias_by_class),
        ),
        Row(
            f"class severity {c.shift:.1f} pt: tau vs truth, all drugs",
            c.tau_truth,
            "(reported)",
            None,
            f"without class-specific severity {c.tau_truth_no_shift:.3f}",
        ),
        Row(
            f"class severity {c.shift:.1f} pt: tau vs truth within class",
            c.tau_truth_within_class,
            "(reported)",
            None,
            "mean over the 6 classes",
        ),
    ]


def _run(scenario: str, reps: int, seed: int, **kw) -> list[Record]:
    rng = np.random.default_rng(seed)
    scale = kw.pop("scale", 1)
    ranks = kw.pop("ranks", False)
    use_group = kw.pop("use_group", True)
    return [
        evaluate(draw(scenario, rng, scale), rng, use_group=use_group, ranks=ranks, **kw)
        for _ in range(reps)
    ]
