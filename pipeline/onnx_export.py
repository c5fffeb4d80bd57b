"""ONNX Runtime inference for a trained transformer: fp32 export and dynamic int8 quantisation.

The export uses the TorchScript exporter (``dynamo=False``): it writes one file, which is what
``quantize_dynamic`` accepts, and its positional inputs follow the forward signature, so the
attention mask and token types cannot be swapped silently. Every export is checked against the
torch model on real, padded batches: ``check_agreement`` reports the largest probability
difference and the share of units whose label set is identical. The int8 model is shipped only
when at least 99% of label sets agree; otherwise it is deleted and the reason recorded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ModelError
from .modeling import FP32, INT8, ONNX_DIR, Manifest
from .schema import atomic_write

MIN_AGREEMENT = 0.99


def export(model_dir: Path) -> Path:
    """Write ``<model_dir>/onnx/model.onnx`` (fp32) and ``model.int8.onnx``; return the folder."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model_dir = Path(model_dir)
    if Manifest.load(model_dir).kind != "transformer":
        raise ModelError(f"{model_dir}: only transformer models export to ONNX")
    out = model_dir / ONNX_DIR
    out.mkdir(exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    sample = tokenizer(["A short sentence.", "A somewhat longer sentence about county jails."],
                       padding=True, return_tensors="pt")
    # Positional order of BertForSequenceClassification.forward: input_ids, attention_mask, token_type_ids.
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}
    tmp = out / f".{FP32}.tmp"
    with torch.no_grad():
        torch.onnx.export(model, tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
    os.replace(tmp, out / FP32)
    tmp = out / f".{INT8}.tmp"
    quantize_dynamic(str(out / FP32), str(tmp), weight_type=QuantType.QInt8)
    os.replace(tmp, out / INT8)
    return out


def check_agreement(model_dir: Path, units: Sequence) -> dict:
    """Compare fp32 and int8 ONNX against fp32 torch on ``units`` (scored as ``label`` scores them,
    with their context); delete int8 if it disagrees too often."""
    from .predict import Labeller

    model_dir = Path(model_dir)
    reference = Labeller(model_dir, device="cpu", precision="fp32")
    base = reference.score_units(units)
    base_sets = reference.decide(base)
    report: dict = {"n_units": len(units), "min_agreement": MIN_AGREEMENT}
    for backend, key in (("onnx", "fp32"), ("onnx-int8", "int8")):
        probs = Labeller(model_dir, device="cpu", backend=backend).score_units(units)
        sets = reference.decide(probs)
        agree = float(np.mean([a == b for a, b in zip(base_sets, sets)])) if len(units) else 1.0
        report[key] = {"max_abs_prob_diff": float(np.abs(probs - base).max()) if len(units) else 0.0,
                       "label_set_agreement": agree}
    ok = report["int8"]["label_set_agreement"] >= MIN_AGREEMENT
    report["int8"]["shipped"] = ok
    report["int8"]["verdict"] = (
        "shipped: label sets agree with torch on >= 99% of units" if ok
        else f"not shipped: label sets agree on only {report['int8']['label_set_agreement']:.1%} of units"
    )
    if not ok:
        (model_dir / ONNX_DIR / INT8).unlink(missing_ok=True)
    with atomic_write(model_dir / ONNX_DIR / "check.json") as f:
        json.dump(report, f, indent=2)
    return report
