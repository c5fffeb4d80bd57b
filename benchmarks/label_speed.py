"""Labelling speed as a user meets it: a cold `argmine label` process against transformers.pipeline.

One run, one machine, one model, the same units:

1. **argmine label, cold**: a fresh ``python -m pipeline label`` process on a JSONL of articles
   (the bundled seed and synthetic op-eds, repeated under new ids to ``--units``), timed from
   process start to exit: imports, model load, reading, segmentation, scoring, all outputs. Its
   peak RSS is read from the kernel, and a second cold run on a tenth of the input shows whether
   memory stays flat in corpus size.
2. **transformers.pipeline** on exactly the units argmine wrote (with the context pairs the model
   was trained on, as ``{"text", "text_pair"}``, so both compute the same thing), at its default
   batch size and at ``batch_size=64``. It is timed *warm*, after loading, on a sample
   (``--pipeline-units``): the baseline gets its best case, argmine its worst.
3. **forward pass only**: the same model, pre-tokenised, length-sorted batches as argmine pads
   them, timed over the units (up to ``--forward-units``; first pass, then again warm), at the
   precision argmine picked; the share of it that
   the whole process reaches says how much time goes around the model.
4. **labels do not change**: the share of gold units (seed and synthetic) whose label set at the
   chosen precision equals fp32's.

Prints a table and writes it as JSON (``--json``).

    .venv/bin/python benchmarks/label_speed.py --model models/default [--units 20000] [--backend torch]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def gold_units():
    from pipeline.data import load_units

    return load_units([ROOT / "data/seed_units.jsonl", ROOT / "data/synthetic/units.jsonl"])


def write_articles(path: Path, n_units: int, seed: int = 0) -> int:
    """The bundled articles, shuffled and repeated under new ids until they hold >= n_units gold
    units; returns the article count."""
    per_doc: dict[str, int] = {}
    for u in gold_units():
        per_doc[u.doc_id] = per_doc.get(u.doc_id, 0) + 1
    texts = {p.stem: p.read_text(encoding="utf-8") for folder in ("data/seeds", "data/synthetic/raw")
             for p in sorted((ROOT / folder).glob("*.txt"))}
    docs = [d for d in sorted(per_doc) if d in texts]
    rng, total, n, rep = random.Random(seed), 0, 0, 0
    with path.open("w", encoding="utf-8") as f:
        while total < n_units:
            rng.shuffle(docs)
            for d in docs:
                f.write(json.dumps({"doc_id": f"{d}-r{rep}", "text": texts[d]}) + "\n")
                total += per_doc[d]
                n += 1
                if total >= n_units:
                    break
            rep += 1
    return n


def cold_label(model: Path, articles: Path, out: Path, extra: list[str]) -> dict:
    """Runs `argmine label` in a fresh process; wall time and peak RSS of that process."""
    cmd = [sys.executable, "-m", "pipeline", "label", str(articles), "--model", str(model), "--out", str(out), *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TQDM_DISABLE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    log = proc.stdout.read().decode()
    if status != 0:
        sys.exit(f"argmine label failed:\n{log}")
    with (out / "units.jsonl").open(encoding="utf-8") as f:
        units = sum(1 for _ in f)
    return {"units": units, "seconds": wall, "units_per_s": units / wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "log": log.strip().splitlines()[0] if log.strip() else ""}


def labelled_units(out: Path):
    from pipeline.schema import PredictedUnit, read_units

    return read_units(out / "units.jsonl", PredictedUnit)


def pipeline_rate(model: Path, items: list, device: str, **kwargs) -> float:
    """Warm units/s of transformers.pipeline (loading and a short warm-up are not timed)."""
    from transformers import pipeline as hf_pipeline

    pipe = hf_pipeline("text-classification", model=str(model), top_k=None, device=device, **kwargs)
    pipe(items[:16])
    t0 = time.perf_counter()
    pipe(items)
    return len(items) / (time.perf_counter() - t0)


def forward_only(labeller, texts: list[str], contexts: list[str] | None) -> tuple[float, float]:
    """units/s of the model's forward pass alone on pre-tokenised, length-sorted, exactly padded
    batches already on the device: the first pass (shapes new), then a second (shapes seen)."""
    import torch

    items = list(zip(texts, contexts)) if contexts is not None else texts
    feats = [f for _, f in labeller._batches(labeller._encode(items))]
    batches = [{k: torch.from_numpy(v).to(labeller.device) for k, v in f.items()} for f in feats]
    model, dev = labeller._model, labeller.device
    rates = []
    for _ in range(2):
        if dev.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.inference_mode():
            for b in batches:
                model(**b).logits.float()
        if dev.startswith("cuda"):
            torch.cuda.synchronize()
        rates.append(len(texts) / (time.perf_counter() - t0))
    return rates[0], rates[1]


def agreement(model: Path, device: str, precision: str) -> dict:
    """Share of the gold units whose label set at ``precision`` equals fp32's."""
    from pipeline.predict import Labeller

    units = gold_units()
    ref = Labeller(model, device=device, precision="fp32")
    ref_sets = ref.decide(ref.score_units(units))
    ours = Labeller(model, device=device, precision=precision)
    sets = ours.decide(ours.score_units(units))
    return {"precision": ours.precision, "units": len(units),
            "label_sets_equal": float(np.mean([a == b for a, b in zip(sets, ref_sets)]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/default")
    parser.add_argument("--units", type=int, default=20_000, help="units argmine labels (cold)")
    parser.add_argument("--pipeline-units", type=int, default=2_000, help="units each pipeline baseline scores (warm)")
    parser.add_argument("--forward-units", type=int, default=10_000, help="units the forward-only passes time")
    parser.add_argument("--backend", default="torch", help="argmine label --backend")
    parser.add_argument("--label-args", default="", help="more `argmine label` options, e.g. '--batch-size 128'")
    parser.add_argument("--no-memory", action="store_true", help="skip the second cold run on a tenth of the input")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    if not (args.model / "argmine.json").exists():
        sys.exit(f"{args.model}: not a trained argmine model (train one: make demo)")

    import torch

    from pipeline.predict import Labeller

    device = "cuda" if torch.cuda.is_available() else "cpu"
    work = Path(tempfile.mkdtemp(prefix="label-speed-"))
    extra = ["--backend", args.backend, *args.label_args.split()]
    articles = work / "articles.jsonl"
    n_articles = write_articles(articles, args.units)
    machine = (torch.cuda.get_device_name() if device == "cuda"
               else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"model {args.model}; {n_articles:,} articles; device {device} ({machine})", flush=True)

    ours = cold_label(args.model, articles, work / "out", extra)
    print(f"argmine label, cold process: {ours['units']:,} units in {ours['seconds']:.1f} s", flush=True)
    memory = None
    if not args.no_memory:
        small = work / "small.jsonl"
        write_articles(small, args.units // 10)
        memory = cold_label(args.model, small, work / "out-small", extra)

    labeller = Labeller(args.model, device=device)
    units = labelled_units(work / "out")
    from pipeline.data import context_texts

    texts, contexts = [u.text for u in units], context_texts(units, labeller.context)
    sample = random.Random(1).sample(range(len(units)), min(args.pipeline_units, len(units)))
    items = ([{"text": texts[i], "text_pair": contexts[i]} if contexts[i] else texts[i] for i in sample]
             if contexts is not None else [texts[i] for i in sample])
    base_default = pipeline_rate(args.model, items, device)
    print(f"pipeline, default batch size: {base_default:,.0f} units/s", flush=True)
    base_64 = pipeline_rate(args.model, items, device, batch_size=64)
    print(f"pipeline, batch_size=64: {base_64:,.0f} units/s", flush=True)
    k = min(len(texts), args.forward_units)
    fwd_first, fwd_warm = forward_only(labeller, texts[:k], contexts[:k] if contexts is not None else None)
    agree = agreement(args.model, device, "auto") if labeller.precision != "fp32" else None

    rows = [
        ("transformers.pipeline, default batch (warm)", base_default),
        ("transformers.pipeline, batch_size=64 (warm)", base_64),
        (f"argmine label {' '.join(extra)}, cold process, end to end", ours["units_per_s"]),
        (f"forward pass only, {labeller.precision}, first pass", fwd_first),
        (f"forward pass only, {labeller.precision}, warm", fwd_warm),
    ]
    print(f"\n{'what':62} {'units/s':>9} {'x default':>10} {'x bs64':>7}")
    for name, rate in rows:
        print(f"{name:62} {rate:9,.0f} {rate / base_default:10.2f} {rate / base_64:7.2f}")
    print(f"\nargmine end to end = {ours['units_per_s'] / fwd_first:.0%} of the first-pass forward rate, "
          f"{ours['units_per_s'] / fwd_warm:.0%} of the warm one")
    print(f"argmine: {ours['log']}")
    if memory:
        print(f"peak RSS: {memory['peak_rss_mb']:,.0f} MB on {memory['units']:,} units, "
              f"{ours['peak_rss_mb']:,.0f} MB on {ours['units']:,}")
    if agree:
        print(f"label sets at {agree['precision']} equal to fp32 on {agree['label_sets_equal']:.2%} of "
              f"{agree['units']:,} gold units")
    result = {
        "model": str(args.model), "device": device, "machine": machine, "torch": torch.__version__,
        "argmine_cold": ours, "argmine_cold_tenth": memory, "pipeline_default": base_default,
        "pipeline_bs64": base_64, "pipeline_units": len(items), "forward_first": fwd_first,
        "forward_warm": fwd_warm, "forward_units": k, "precision": labeller.precision, "agreement": agree,
        "ratio_default": ours["units_per_s"] / base_default, "ratio_bs64": ours["units_per_s"] / base_64,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
