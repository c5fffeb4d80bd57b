"""Segmentation speed and quality, for each sentence splitter, in one run.

Segments >= 1,000 articles (the bundled articles, repeated) in one process on one core and prints
articles/s and units/s, then the exact-span F1 of each splitter on every gold set in data/.

    .venv/bin/python benchmarks/segment_speed.py [--articles 1000]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    from pipeline.schema import read_units
    from pipeline.segment import SPLITTERS, segment_document
    from pipeline.segment_eval import score_spans

    gold_sets = {"seeds": (ROOT / "data/seed_units.jsonl", ROOT / "data/seeds")}
    synthetic = ROOT / "data/synthetic/units.jsonl"
    if synthetic.exists():
        gold_sets["synthetic"] = (synthetic, ROOT / "data/synthetic/raw")
    texts = [p.read_text(encoding="utf-8") for _, d in gold_sets.values() for p in sorted(d.glob("*.txt"))]
    batch = (texts * (args.articles // len(texts) + 1))[: args.articles]
    words = sum(len(t.split()) for t in batch)
    print(f"{len(batch)} articles, {words:,} words, one core\n")
    print(f"{'splitter':10} {'articles/s':>11} {'units/s':>10}  " + "  ".join(f"F1 {k:>9}" for k in gold_sets))
    for splitter in SPLITTERS:
        segment_document("warm-up", batch[0], splitter)
        t0 = time.perf_counter()
        n_units = sum(len(segment_document(f"d{i}", t, splitter)) for i, t in enumerate(batch))
        dt = time.perf_counter() - t0
        f1s = []
        for gold_path, folder in gold_sets.values():
            gold = read_units(gold_path)
            pred = [
                u
                for doc_id in sorted({g.doc_id for g in gold})
                for u in segment_document(doc_id, (folder / f"{doc_id}.txt").read_text(encoding="utf-8"), splitter)
            ]
            f1s.append(score_spans(gold, pred).f1)
        print(f"{splitter:10} {len(batch) / dt:11,.0f} {n_units / dt:10,.0f}  " + "  ".join(f"{f:12.4f}" for f in f1s))


if __name__ == "__main__":
    main()
