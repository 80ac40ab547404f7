"""`python -m bench [NAME ...]`: run the benchmarks (all by default), print one markdown table
with the machine it ran on above it.

Raw outputs of a run go to bench/results/<date-time>/<benchmark>/, the table to
bench/results/<date-time>/table.md as well as to stdout. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import evidence, faults, handling, scheduler, soak, summary, webhook
from bench.harness import Options, Row, log, machine, machine_block, markdown_table

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_SECONDS = 5  # --quick: the load of webhook and handling, unless --seconds says otherwise

# Every benchmark: name -> run(out_dir, options). Add new ones here.
BENCHMARKS: dict[str, Callable[[Path, Options], list[Row]]] = {
    webhook.NAME: webhook.run,
    handling.NAME: handling.run,
    scheduler.NAME: scheduler.run,
    evidence.NAME: evidence.run,
    summary.NAME: summary.run,
    faults.NAME: faults.run,
    soak.NAME: soak.run,
}
# Run only when named: the reliability runs of issue 8, the soak (a quarter of an hour) and
# the fault injection (seven minutes); `python -m bench` is the release table of issue 7.
NOT_IN_ALL = {soak.NAME, faults.NAME}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all but "
        f"{', '.join(sorted(NOT_IN_ALL))})",
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=None,
        help=f"load per target (default 30; {QUICK_SECONDS} with --quick; soak: 600, 60 "
        "with --quick)",
    )
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="longest wait for the app's backlog after the load (default 120)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: short loads and smaller documents (scheduler and evidence keep "
        "their sizes)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    seconds = args.seconds if args.seconds is not None else QUICK_SECONDS if args.quick else 30
    if not 1 <= seconds <= 600 or not 2 <= args.connections <= 1000:
        parser.error("--seconds must be 1..600 and --connections 2..1000")
    options = Options(
        seconds,
        args.connections,
        min(args.drain_timeout, 600.0),
        args.quick,
        seconds_given=args.seconds is not None,
    )

    database_url = os.environ.get("BENCH_DATABASE_URL", webhook.DEFAULT_DATABASE_URL)
    run_kind = "smoke run (--quick)" if args.quick else "full run"
    chosen = args.names or [name for name in BENCHMARKS if name not in NOT_IN_ALL]
    names = " ".join(args.names) or "all"
    length = f"--seconds {seconds}"
    if soak.NAME in chosen and args.seconds is None:
        length += f" (soak: {soak.QUICK_SECONDS if args.quick else soak.SECONDS})"
    facts = {"run": f"{run_kind}, {length}: {names}", **machine(database_url)}
    run_dir = RESULTS / time.strftime("%Y%m%d-%H%M%S")
    rows: list[Row] = []
    for name in chosen:
        out_dir = run_dir / name
        out_dir.mkdir(parents=True, exist_ok=True)
        log(f"{name}: starting; raw output in {out_dir}")
        rows += BENCHMARKS[name](out_dir, options)
    output = "machine:\n\n" + machine_block(facts) + "\n\n" + markdown_table(rows)
    (run_dir / "table.md").write_text(output + "\n")
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
