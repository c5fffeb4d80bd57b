"""Cross-validation by article: folds over the evaluation articles, training corpus always in training.

For each fold, the held-out articles of the evaluation set are the test side; everything else
(the training corpus plus the other evaluation articles) is the training side, from which whole
articles are held out as dev for epoch selection and thresholds: a random share of them, or with
``data.dev_from: eval`` the fold's other evaluation articles (real text). ``data.eval_repeat``
repeats the real articles that train, to weigh in-domain text more. Nothing about a fold's test
articles is seen before it is scored.

Two summaries are reported: the metrics of all out-of-fold predictions pooled (each scored by its
own fold's model and thresholds), and the mean and spread of each metric over folds (a label with
no support in a fold is left out of that label's mean rather than counted as zero).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import Config
from .data import article_folds, split_by_article
from .evaluate import Evaluation, evaluate_model, score
from .schema import LABELS, Unit
from .tracker import Tracker
from .train import train_model


@dataclass
class CVResult:
    folds: list[dict[str, float]]
    fold_docs: list[list[str]]
    pooled: Evaluation
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)


def _supported_macro(m: dict[str, float]) -> dict[str, float]:
    """A fold's macro scores over the labels it has gold units for: a label absent from a
    one-article fold has no defined F1, and counting it as 0 would understate every fold."""
    present = [lab for lab in LABELS if m[f"{lab}_support"] > 0]
    out = dict(m)
    for kind in ("precision", "recall", "f1", "ap"):
        if f"macro_{kind}" not in m:
            continue
        out[f"macro_{kind}"] = float(np.mean([m[f"{lab}_{kind}"] for lab in present])) if present else float("nan")
    return out


def summarise(folds: Sequence[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    folds = [_supported_macro(m) for m in folds]
    keys = folds[0].keys()
    mean, std = {}, {}
    for key in keys:
        vals = []
        for m in folds:
            label = next((lab for lab in LABELS if key.startswith(lab + "_")), None)
            if label and not key.endswith("_support") and m[f"{label}_support"] == 0:
                continue  # undefined in this fold
            vals.append(m[key])
        vals = [v for v in vals if not np.isnan(v)]
        mean[key] = float(np.mean(vals)) if vals else float("nan")
        std[key] = float(np.std(vals)) if vals else float("nan")
    return mean, std


def fold_split(
    cfg: Config, train_units: Sequence[Unit], eval_units: Sequence[Unit], held: Sequence[str]
) -> tuple[list[Unit], list[Unit], list[Unit]]:
    """Training, dev and test units of the fold that holds out the evaluation articles ``held``."""
    held_set = set(held)
    test = [u for u in eval_units if u.doc_id in held_set]
    side_eval = [u for u in eval_units if u.doc_id not in held_set]
    if cfg.data.dev_from == "eval":
        return list(train_units), side_eval, test
    tr, dev = split_by_article([*train_units, *side_eval], cfg.data.dev_fraction, cfg.dev_split_seed)
    real = {u.doc_id for u in side_eval}
    copies = [
        u.model_copy(update={"doc_id": f"{u.doc_id}#copy{n}"})
        for n in range(1, cfg.data.eval_repeat)
        for u in tr
        if u.doc_id in real
    ]
    return tr + copies, dev, test


def cross_validate(
    cfg: Config,
    eval_units: Sequence[Unit],
    train_units: Sequence[Unit],
    *,
    k: int | None = None,
    work_dir: Path,
    tracker: Tracker | None = None,
    data_digest: str = "",
    keep_models: bool = False,
) -> CVResult:
    tracker = tracker or Tracker()
    folds = article_folds(eval_units, k)
    fold_metrics: list[dict[str, float]] = []
    pooled_units: list[Unit] = []
    pooled_probs, pooled_thresholds = [], []
    for i, held in enumerate(folds):
        tr, dev, test = fold_split(cfg, train_units, eval_units, held)
        fold_cfg = cfg.model_copy(deep=True)
        fold_cfg.output_dir = Path(work_dir) / f"fold-{i}"
        with tracker.child(f"fold-{i}") as t:
            t.set_tags({"fold": str(i), "test_docs": ",".join(held)})
            t.log_params({"fold": i, "test_docs": ",".join(held), "n_train": len(tr), "n_dev": len(dev),
                          "n_test": len(test)})
            trained = train_model(fold_cfg, tr, dev, tracker=t, data_digest=data_digest, resume=False)
            ev = evaluate_model(trained.model_dir, test, device=cfg.train.device)
            t.log_metrics({f"test_{k}": v for k, v in ev.metrics.items()})
        fold_metrics.append(ev.metrics)
        pooled_units += ev.units
        pooled_probs.append(ev.probs)
        pooled_thresholds.append(np.broadcast_to(ev.thresholds, ev.probs.shape))
        if not keep_models:
            shutil.rmtree(trained.model_dir, ignore_errors=True)
    # Each unit is decided by its own fold's model and thresholds.
    pooled = score(pooled_units, np.concatenate(pooled_probs), np.concatenate(pooled_thresholds))
    mean, std = summarise(fold_metrics)
    return CVResult(fold_metrics, folds, pooled, mean, std)
