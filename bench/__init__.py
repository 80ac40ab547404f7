"""Benchmarks for the bot, run with `python -m bench` from the repository root (see README.md).

Each benchmark module has `run(out_dir, options) -> list[Row]`; `bench.__main__` runs them and
prints one markdown table. Raw outputs go to `bench/results/` (ignored by git).
"""
