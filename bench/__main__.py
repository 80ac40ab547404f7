"""`python -m bench [NAME ...]`: run the benchmarks (all by default), print one markdown table.

Raw outputs of a run go to bench/results/<date-time>/<benchmark>/, the table to
bench/results/<date-time>/table.md as well as to stdout. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import evidence, scheduler, webhook
from bench.harness import Row, log, markdown_table

RESULTS = Path(__file__).resolve().parent / "results"

# Every benchmark: name -> run(out_dir, options). Add new ones here.
BENCHMARKS: dict[str, Callable[[Path, webhook.Options], list[Row]]] = {
    webhook.NAME: webhook.run,
    evidence.NAME: evidence.run,  # type: ignore[dict-item]
    scheduler.NAME: scheduler.run,  # type: ignore[dict-item]
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument("--seconds", type=int, default=30, help="load per target (default 30)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="longest wait for the app's backlog after the load (default 120)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if not 1 <= args.seconds <= 600 or not 2 <= args.connections <= 1000:
        parser.error("--seconds must be 1..600 and --connections 2..1000")
    options = webhook.Options(args.seconds, args.connections, min(args.drain_timeout, 600.0))

    run_dir = RESULTS / time.strftime("%Y%m%d-%H%M%S")
    rows: list[Row] = []
    for name in args.names or list(BENCHMARKS):
        out_dir = run_dir / name
        out_dir.mkdir(parents=True, exist_ok=True)
        log(f"{name}: starting; raw output in {out_dir}")
        rows += BENCHMARKS[name](out_dir, options)
    table = markdown_table(rows)
    (run_dir / "table.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
