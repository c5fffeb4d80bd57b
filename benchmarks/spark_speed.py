"""spark-label against `argmine label` on the same machine and articles, and how it scales with
executors in local mode (local[1], local[2], ...). Every run is a cold process timed from start
to exit (JVM and Python workers started, model loaded on each, all outputs written).

    .venv/bin/python benchmarks/spark_speed.py --model models/default [--units 4000] [--cores 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from label_speed import cold_label, write_articles


def cold_spark(model: Path, articles: Path, out: Path, cores: int) -> dict:
    import pyarrow.parquet as pq

    cmd = [sys.executable, "-m", "pipeline", "spark-label", str(articles), "--model", str(model), "--out", str(out),
           "--master", f"local[{cores}]", "--partitions", str(4 * cores)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TQDM_DISABLE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"spark-label failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    units = pq.read_table(out / "units").num_rows
    return {"cores": cores, "units": units, "seconds": wall, "units_per_s": units / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/default")
    parser.add_argument("--units", type=int, default=4_000)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2], help="local[N] runs to time")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="spark-speed-"))
    articles = work / "articles.jsonl"
    n = write_articles(articles, args.units)
    print(f"{n:,} articles, >= {args.units:,} units; model {args.model}; {os.cpu_count()} cores", flush=True)
    ours = cold_label(args.model, articles, work / "label", [])
    print(f"argmine label: {ours['units_per_s']:,.0f} units/s ({ours['seconds']:.1f} s)", flush=True)
    runs = []
    for cores in args.cores:
        r = cold_spark(args.model, articles, work / f"spark-{cores}", cores)
        runs.append(r)
        print(f"spark-label local[{cores}]: {r['units_per_s']:,.0f} units/s ({r['seconds']:.1f} s)", flush=True)
    print(f"\n{'what':28} {'units/s':>8} {'seconds':>8} {'x label':>8}")
    print(f"{'argmine label':28} {ours['units_per_s']:8,.0f} {ours['seconds']:8.1f} {1:8.2f}")
    for r in runs:
        name = f"spark-label local[{r['cores']}]"
        print(f"{name:28} {r['units_per_s']:8,.0f} {r['seconds']:8.1f} {r['units_per_s'] / ours['units_per_s']:8.2f}")
    if args.json:
        args.json.write_text(json.dumps({"label": ours, "spark": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
