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

import numpy as np

from pipeline.config import Config
from pipeline.cv import fold_split, summarise
from pipeline.data import context_texts, label_matrix, load_units
from pipeline.evaluate import score
from pipeline.metrics import best_thresholds
from pipeline.modeling import TFIDF_BLEND, Manifest
from pipeline.predict import Labeller
from pipeline.schema import LABELS, atomic_write
from pipeline.tfidf import TfidfLogit
from pipeline.train import best_weight, calibrate, dev_metrics_by_weight, fit_tfidf

SHORT = {"pro-enforcement": "pro", "civil-liberties": "civ", "fiscal": "fis", "federalism": "fed"}


def fold_probs(cfg, model_dir: Path, tr, dev, test) -> dict[str, np.ndarray]:
    """Transformer and tf-idf probabilities on the fold's dev and test units."""
    labeller = Labeller(model_dir, precision="fp32")  # as training scored dev and `cv` scores test
    out = {}
    for part, units in (("dev", dev), ("test", test)):
        contexts = context_texts(units, labeller.context)
        out[f"{part}_transformer"] = labeller._transformer_proba([u.text for u in units], contexts)
    with tempfile.TemporaryDirectory() as tmp:
        out["dev_tfidf"], _ = fit_tfidf(cfg, tr, dev, Path(tmp), TFIDF_BLEND)
        tfidf = TfidfLogit.load(Path(tmp), TFIDF_BLEND)
        out["test_tfidf"] = np.asarray(tfidf.predict_proba([u.text for u in test]), dtype=np.float32)
    return out


POOL_GRID = (0.0, 0.25, 0.5, 0.75)


def pool_by_article(probs: np.ndarray, doc_ids: list[str], weights: dict[str, float]) -> np.ndarray:
    """``(1 - a) p + a * mean of p over the unit's article``, with a weight ``a`` per label."""
    docs, inverse = np.unique(np.asarray(doc_ids), return_inverse=True)
    sums = np.zeros((len(docs), probs.shape[1]), dtype=np.float64)
    np.add.at(sums, inverse, probs)
    means = sums / np.bincount(inverse, minlength=len(docs))[:, None]
    a = np.asarray([weights[label] for label in LABELS], dtype=np.float32)
    return ((1.0 - a) * probs + a * means[inverse]).astype(np.float32)


def choose_pool(y_dev: np.ndarray, probs: np.ndarray, doc_ids: list[str]) -> dict[str, float]:
    """For each label, the pooling weight from ``POOL_GRID`` with the best dev F1 at its tuned
    threshold (ties go to the smaller weight)."""
    metrics = dev_metrics_by_weight(y_dev, POOL_GRID,
                                    lambda a: pool_by_article(probs, doc_ids, dict.fromkeys(LABELS, a)))
    return {label: best_weight(metrics, f"{label}_f1") for label in LABELS}


def rescore(setting, folds, parts, article_pool=False):
    units, probs, thresholds, fold_metrics, weights = [], [], [], [], []
    for (tr, dev, test), p in zip(folds, parts):
        y_dev = label_matrix(dev)
        cal = calibrate(setting, y_dev, p["dev_transformer"], p["dev_tfidf"])  # what train_model does
        weight, dev_mix, thr = cal.weight, cal.probs, cal.thresholds
        test_mix = cal.apply(p["test_transformer"], p["test_tfidf"])
        if article_pool:
            dev_docs, test_docs = [u.doc_id for u in dev], [u.doc_id for u in test]
            pool = choose_pool(y_dev, dev_mix, dev_docs)
            dev_mix = pool_by_article(dev_mix, dev_docs, pool)
            test_mix = pool_by_article(test_mix, test_docs, pool)
            weight = {"blend": weight, "pool": pool}
            thr = best_thresholds(y_dev, dev_mix)
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
    if isinstance(w, dict) and "pool" in w:
        return f"{show_weight(w['blend'])} pool {show_weight(w['pool'])}"
    if isinstance(w, dict):
        return "/".join(f"{w[label]:g}" for label in LABELS)
    return f"{w:g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cv", type=Path, required=True, help="the cv run's --out folder (run with --keep-models)")
    ap.add_argument("--settings", nargs="+", default=["0", "auto", "per-label", "0.5"],
                    help="tfidf_blend settings to score (numbers, auto, per-label)")
    ap.add_argument("--article-pool", action="store_true",
                    help="also score each setting with a label's score pooled over the article "
                         "(a weight per label chosen on dev; docs/RESULTS.md)")
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
    runs = [(raw, False) for raw in args.settings]
    if args.article_pool:
        runs += [(raw, True) for raw in args.settings]
    for raw, article_pool in runs:
        setting = raw if raw in ("auto", "per-label") else float(raw)
        pooled, mean, std, weights = rescore(setting, folds, parts, article_pool)
        name = f"{raw}+pool" if article_pool else raw
        results[name] = {"pooled": pooled, "mean": mean, "std": std,
                         "weights": [w if isinstance(w, dict) else float(w) for w in weights]}
        print(f"{name:<12} {pooled['macro_f1']:>7.3f} {mean['macro_f1']:>7.3f} ± {std['macro_f1']:.3f}  "
              + " ".join(f"{pooled[f'{label}_f1']:>5.3f}" for label in LABELS)
              + f" {pooled['macro_ap']:>6.3f}  " + ", ".join(show_weight(w) for w in weights))
    if args.json:
        with atomic_write(args.json) as f:
            json.dump({"check_max_abs_diff": gap, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
