"""Labelling speed: the project's labeller against transformers.pipeline, same model, units and run.

Labels the same >= 20,000 real op-ed sentences (the bundled gold units, repeated and shuffled)
with:

1. ``transformers.pipeline("text-classification", top_k=None)`` at its default batch size;
2. the same pipeline with ``batch_size=64``;
3. the project's ``Labeller`` (torch, precision auto: bf16 where the hardware has it), and
   with ``--all-backends`` also torch fp32 and ONNX Runtime fp32 / int8 (exported if missing).

Prints units/s and the ratios against both pipelines, and the share of units whose label set
matches torch fp32. On a CUDA machine it also times the forward pass alone on pre-tokenised,
length-sorted batches, and reports end-to-end throughput as a share of it.

    .venv/bin/python benchmarks/label_speed.py --model models/default [--units 20000] [--all-backends]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load_texts(n: int, seed: int = 0) -> list[str]:
    texts = []
    for path in (ROOT / "data/seed_units.jsonl", ROOT / "data/synthetic/units.jsonl"):
        if path.exists():
            texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    out = (texts * (n // len(texts) + 1))[:n]
    random.Random(seed).shuffle(out)
    return out


def untrained_model() -> Path:
    """The packaged MiniLM with a fresh 4-label head: same cost as a trained one."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from pipeline.modeling import Manifest, resolve_encoder
    from pipeline.schema import LABELS

    d = Path(tempfile.mkdtemp(prefix="bench-model-"))
    enc = resolve_encoder("all-MiniLM-L6-v2")
    AutoModelForSequenceClassification.from_pretrained(
        enc, num_labels=4, problem_type="multi_label_classification",
        id2label=dict(enumerate(LABELS)), label2id={lab: i for i, lab in enumerate(LABELS)},
    ).save_pretrained(d)
    AutoTokenizer.from_pretrained(enc).save_pretrained(d)
    Manifest(kind="transformer", labels=list(LABELS), thresholds={lab: 0.5 for lab in LABELS}).save(d)
    return d


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def pipeline_probs(results, labels) -> np.ndarray:
    return np.array([[{r["label"]: r["score"] for r in row}[lab] for lab in labels] for row in results])


def forward_only(model_dir: Path, texts: list[str], batch_size: int) -> float:
    """units/s of the model's forward pass alone, on pre-tokenised batches already on the GPU."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).cuda().eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = []
    for i in range(0, len(order), batch_size):
        enc = tok([texts[j] for j in order[i : i + batch_size]], padding=True, truncation=True,
                  max_length=128, return_tensors="pt")
        batches.append({k: v.cuda() for k, v in enc.items()})
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        for b in batches[:5]:
            model(**b)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for b in batches:
            model(**b)
        torch.cuda.synchronize()
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/default")
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--all-backends", action="store_true", help="also torch fp32 and ONNX fp32/int8")
    args = parser.parse_args()

    import torch
    from transformers import pipeline as hf_pipeline

    from pipeline.modeling import Manifest
    from pipeline.predict import Labeller

    model_dir = args.model
    if not (model_dir / "argmine.json").exists():
        print(f"{model_dir} is not a trained model; timing an untrained MiniLM classifier (same cost)")
        model_dir = untrained_model()
    labels = Manifest.load(model_dir).labels
    texts = load_texts(args.units)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    print(f"{len(texts):,} units, model {model_dir}, device {device}"
          f"{'' if cuda else f' ({torch.get_num_threads()} threads)'}\n")

    rows: list[tuple[str, float]] = []
    reference = Labeller(model_dir, device=device, batch_size=args.batch_size, precision="fp32")
    ref_sets = None

    def run_ours(name: str, labeller: Labeller) -> None:
        nonlocal ref_sets
        labeller.predict_proba(texts[:256])  # warm-up
        probs, dt = timed(lambda: labeller.predict_proba(texts))
        sets = labeller.decide(probs)
        if ref_sets is None and name.endswith("fp32"):
            ref_sets = sets
        agree = "" if ref_sets is None else f"  label sets = torch fp32: {np.mean([a == b for a, b in zip(sets, ref_sets)]):.2%}"
        rows.append((name, len(texts) / dt))
        print(f"{name:34} {len(texts) / dt:10,.0f} units/s{agree}", flush=True)

    if args.all_backends:
        run_ours("argmine torch fp32", reference)
    else:
        ref_sets = reference.decide(reference.predict_proba(texts[:2000]))
    auto = Labeller(model_dir, device=device, batch_size=args.batch_size)
    if not args.all_backends:
        ours = auto.decide(auto.predict_proba(texts[:2000]))
        print(f"(precision auto = {auto.precision}; label sets equal to fp32 on 2,000 units: "
              f"{np.mean([a == b for a, b in zip(ours, ref_sets)]):.2%})")
        ref_sets = None
    run_ours(f"argmine torch ({auto.precision})", auto)
    if args.all_backends and not cuda:
        from pipeline.onnx_export import ONNX_DIR, INT8, export

        if not (model_dir / ONNX_DIR / INT8).exists():
            export(model_dir)
        run_ours("argmine onnx fp32", Labeller(model_dir, backend="onnx", batch_size=args.batch_size))
        run_ours("argmine onnx int8", Labeller(model_dir, backend="onnx-int8", batch_size=args.batch_size))

    for name, kwargs in (("pipeline, default batch size", {}), ("pipeline, batch_size=64", {"batch_size": 64})):
        pipe = hf_pipeline("text-classification", model=str(model_dir), top_k=None, device=device, **kwargs)
        pipe(texts[:32])
        _, dt = timed(lambda: pipe(texts))  # op-ed sentences fit the model: no truncation needed
        rows.append((name, len(texts) / dt))
        print(f"{name:34} {len(texts) / dt:10,.0f} units/s", flush=True)

    base_default = dict(rows)["pipeline, default batch size"]
    base_batched = dict(rows)["pipeline, batch_size=64"]
    print(f"\n{'method':34} {'units/s':>10} {'x default':>10} {'x batch64':>10}")
    for name, rate in rows:
        print(f"{name:34} {rate:10,.0f} {rate / base_default:10.2f} {rate / base_batched:10.2f}")
    if cuda:
        fwd = forward_only(model_dir, texts, max(args.batch_size, 256))
        best = max(rate for name, rate in rows if name.startswith("argmine"))
        print(f"\nforward pass only (bf16, pre-tokenised): {fwd:,.0f} units/s; "
              f"end-to-end argmine = {best / fwd:.0%} of it")


if __name__ == "__main__":
    main()
