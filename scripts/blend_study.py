"""Rescore a cross-validation run's fold models under other ``model.tfidf_blend`` settings.

    argmine cv --config configs/default.yaml --keep-models --out out/cv-auto-keep
    python scripts/blend_study.py --cv out/cv-auto-keep

The blend is chosen after the transformer is trained, so one cross-validation run with its fold
models kept tells what every blend setting would have scored: for each fold, the transformer's
and a refitted tf-idf model's probabilities on that fold's dev and test units are mixed as
``train`` would mix them (``pipeline.train.choose_blend`` picks the weights, and thresholds are
tuned, on the fold's dev articles only), and the test units are scored. The config is the one the
fold models were trained with (from their manifests). The setting the run was trained with is
rescored first and checked against the run's own pooled metrics: the rows mean something only if
that check passes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import joblib
import numpy as np

from pipeline.config import Config
from pipeline.cv import fold_split, summarise
from pipeline.data import label_matrix, load_units, previous_texts
from pipeline.evaluate import score
from pipeline.metrics import best_thresholds
from pipeline.modeling import TFIDF_BLEND_FILE, Manifest, mix
from pipeline.predict import Labeller
from pipeline.schema import LABELS
from pipeline.train import _fit_tfidf, choose_blend

SHORT = {"pro-enforcement": "pro", "civil-liberties": "civ", "fiscal": "fis", "federalism": "fed"}


def fold_probs(cfg, model_dir: Path, tr, dev, test) -> dict[str, np.ndarray]:
    """Transformer and tf-idf probabilities on the fold's dev and test units."""
    # test as `cv` scored it (evaluate's default precision); dev as training scored it (fp32)
    for_test = Labeller(model_dir, precision="auto")
    for_dev = for_test if for_test.precision == "fp32" else Labeller(model_dir, precision="fp32")
    out = {}
    for labeller, part, units in ((for_dev, "dev", dev), (for_test, "test", test)):
        contexts = previous_texts(units) if labeller.uses_context else None
        out[f"{part}_transformer"] = labeller._transformer_proba([u.text for u in units], contexts)
    with tempfile.TemporaryDirectory() as tmp:
        out["dev_tfidf"], _ = _fit_tfidf(cfg, tr, dev, Path(tmp), TFIDF_BLEND_FILE)
        tfidf = joblib.load(Path(tmp) / TFIDF_BLEND_FILE)
        out["test_tfidf"] = np.asarray(tfidf.predict_proba([u.text for u in test]), dtype=np.float32)
    return out


def rescore(setting, folds, parts):
    units, probs, thresholds, fold_metrics, weights = [], [], [], [], []
    for (tr, dev, test), p in zip(folds, parts):
        y_dev = label_matrix(dev)
        weight, _ = choose_blend(setting, y_dev, p["dev_transformer"], p["dev_tfidf"])
        dev_mix = mix(p["dev_transformer"], p["dev_tfidf"], weight)
        thr = best_thresholds(y_dev, dev_mix)
        test_mix = mix(p["test_transformer"], p["test_tfidf"], weight)
        ev = score(test, test_mix, thr)
        units += test
        probs.append(test_mix)
        thresholds.append(np.broadcast_to(thr, test_mix.shape))
        fold_metrics.append(ev.metrics)
        weights.append(weight)
    pooled = score(units, np.concatenate(probs), np.concatenate(thresholds))
    mean, std = summarise(fold_metrics)
    return pooled.metrics, mean, std, weights


def show_weight(w) -> str:
    if isinstance(w, dict):
        return "/".join(f"{w[label]:g}" for label in LABELS)
    return f"{w:g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cv", type=Path, required=True, help="the cv run's --out folder (run with --keep-models)")
    ap.add_argument("--settings", nargs="+", default=["0", "auto", "per-label", "0.5"],
                    help="tfidf_blend settings to score (numbers, auto, per-label)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # one "Loading weights" bar per fold model is noise here

    summary = json.loads((args.cv / "cv_metrics.json").read_text())
    model_dirs = [args.cv / "folds" / f"fold-{i}" for i in range(len(summary["fold_docs"]))]
    for model_dir in model_dirs:
        if not (model_dir / "argmine.json").is_file():
            raise SystemExit(f"error: {model_dir}: no fold model; run `argmine cv ... --keep-models`")
    cfg = Config.model_validate(Manifest.load(model_dirs[0]).config)
    train_units, eval_units = load_units(cfg.data.train), load_units([cfg.data.eval])
    folds, parts = [], []
    for i, (held, model_dir) in enumerate(zip(summary["fold_docs"], model_dirs)):
        split = fold_split(cfg, train_units, eval_units, held)
        folds.append(split)
        parts.append(fold_probs(cfg, model_dir, *split))
        print(f"fold {i} ({','.join(held)}): {len(split[1])} dev units, {len(split[2])} test units", flush=True)

    own = cfg.model.tfidf_blend
    own_pooled = rescore(own, folds, parts)[0]
    gap = max(abs(own_pooled[k] - summary["pooled"][k]) for k in summary["pooled"])
    print(f"check: setting {own!r} rescored vs the run's own pooled metrics: largest difference {gap:.2e}")

    results = {}
    header = f"{'tfidf_blend':<12} {'pooled':>7} {'mean ± std':>14}  " + " ".join(
        f"{SHORT[label]:>5}" for label in LABELS) + f" {'AP':>6}  weights per fold (pro/civ/fis/fed)"
    print(header)
    for raw in args.settings:
        setting = raw if raw in ("auto", "per-label") else float(raw)
        pooled, mean, std, weights = rescore(setting, folds, parts)
        results[raw] = {"pooled": pooled, "mean": mean, "std": std,
                        "weights": [w if isinstance(w, dict) else float(w) for w in weights]}
        print(f"{raw:<12} {pooled['macro_f1']:>7.3f} {mean['macro_f1']:>7.3f} ± {std['macro_f1']:.3f}  "
              + " ".join(f"{pooled[f'{label}_f1']:>5.3f}" for label in LABELS)
              + f" {pooled['macro_ap']:>6.3f}  " + ", ".join(show_weight(w) for w in weights))
    if args.json:
        args.json.write_text(json.dumps({"check_max_abs_diff": gap, "results": results}, indent=2))


if __name__ == "__main__":
    main()
