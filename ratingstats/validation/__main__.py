"""``python -m ratingstats.validation --out reports/validation`` (``make validate``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .report import summary_table, write_report
from .study import Study, run_study, sensitivity_rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ratingstats.validation")
    p.add_argument("--out", default="reports/validation", help="report folder")
    p.add_argument("--reps", type=int, default=200, help="replicates per scenario")
    p.add_argument("--large-reps", type=int, default=20, help="replicates of the 20x scenarios")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument(
        "--only",
        choices=("sensitivity",),
        help="run only the sensitivity check (ordinal reference, class severity; seconds)",
    )
    args = p.parse_args(argv)
    if args.only == "sensitivity":
        st = Study(rows=sensitivity_rows())
        print(summary_table(st))
        return 0 if st.passed else 1
    command = "python -m ratingstats.validation " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"validation study: {args.reps} replicates per scenario", flush=True)
    st = run_study(
        reps=args.reps,
        large_reps=args.large_reps,
        seed=args.seed,
        log=lambda s: print(s, flush=True),
    )
    path = write_report(st, Path(args.out), command.strip())
    print()
    print(summary_table(st))
    print(
        f"\n{len(st.rows)} checks, {sum(r.ok is False for r in st.rows)} failed; "
        f"{st.seconds:.0f} s; report: {path}"
    )
    return 0 if st.passed else 1


if __name__ == "__main__":
    sys.exit(main())
