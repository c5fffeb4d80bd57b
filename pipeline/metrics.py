"""Multi-label metrics on arrays: per label, macro, micro, exact match, calibration, ranking; thresholds.

Inputs are ``y_true`` (n x L, 0/1) and ``probs`` (n x L, probabilities). Pure numpy, so the same
functions score the transformer, the baseline and the cross-validation folds.
"""

from __future__ import annotations

import numpy as np

from .schema import LABELS


# Every key ``multilabel_metrics`` returns, named once: runs log them as ``dev_<key>`` and
# ``eval_<key>``, and ``tracking.champion_metric`` must be one of those.
PER_LABEL_METRICS = ("precision", "recall", "f1", "ap", "support")
METRIC_NAMES = (
    *(f"{label}_{kind}" for label in LABELS for kind in PER_LABEL_METRICS),
    "micro_precision", "micro_recall", "micro_f1", "macro_precision", "macro_recall", "macro_f1", "macro_ap",
    "exact_match", "ece", "n_units",
)
# Higher is better for each (the champion moves on ">"): counts and the calibration error are out.
CHAMPION_METRICS = tuple(f"{split}_{name}" for split in ("eval", "dev") for name in METRIC_NAMES
                         if not name.endswith(("_support", "n_units", "ece")))


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, bins: int = 10) -> float:
    """ECE over every (unit, label) probability: the bin-weighted gap between confidence and accuracy."""
    y, p = np.asarray(y_true, float).ravel(), np.asarray(probs, float).ravel()
    if p.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(ece)


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the precision-recall curve as a step sum (scikit-learn's definition): the
    precision at each distinct score, weighted by the recall it adds. Threshold-free, so it tells
    a model that ranks a label's units badly from one whose threshold is off. 0 with no positives.
    """
    y, s = np.asarray(y_true, dtype=int).ravel(), np.asarray(scores, dtype=float).ravel()
    n_pos = int(y.sum())
    if n_pos == 0:
        return 0.0
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last unit of each run of tied scores
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / n_pos
    return float((precision * recall_gain).sum())


def multilabel_metrics(
    y_true: np.ndarray, probs: np.ndarray, thresholds: np.ndarray | list[float] | float = 0.5,
    labels: tuple[str, ...] = LABELS,
) -> dict[str, float]:
    """Flat metric dict: ``{label}_precision/recall/f1/support``, ``macro_f1``, ``micro_f1``, ..."""
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(probs, dtype=float)
    # thresholds: one scalar, one per label, or one per unit and label (pooled cross-validation folds)
    pred = (p >= np.broadcast_to(np.asarray(thresholds, dtype=float), p.shape)).astype(int)
    out: dict[str, float] = {}
    f1s, precisions, recalls = [], [], []
    for j, label in enumerate(labels):
        tp = float(((pred[:, j] == 1) & (y[:, j] == 1)).sum())
        fp = float(((pred[:, j] == 1) & (y[:, j] == 0)).sum())
        fn = float(((pred[:, j] == 0) & (y[:, j] == 1)).sum())
        prec, rec, f1 = _prf(tp, fp, fn)
        out |= {f"{label}_precision": prec, f"{label}_recall": rec, f"{label}_f1": f1,
                f"{label}_ap": average_precision(y[:, j], p[:, j]), f"{label}_support": float(y[:, j].sum())}
        f1s.append(f1)
        precisions.append(prec)
        recalls.append(rec)
    tp = float(((pred == 1) & (y == 1)).sum())
    fp = float(((pred == 1) & (y == 0)).sum())
    fn = float(((pred == 0) & (y == 1)).sum())
    out["micro_precision"], out["micro_recall"], out["micro_f1"] = _prf(tp, fp, fn)
    out["macro_precision"] = float(np.mean(precisions))
    out["macro_recall"] = float(np.mean(recalls))
    out["macro_f1"] = float(np.mean(f1s))
    out["macro_ap"] = float(np.mean([out[f"{label}_ap"] for label in labels]))
    out["exact_match"] = float((pred == y).all(axis=1).mean()) if len(y) else 0.0
    out["ece"] = expected_calibration_error(y, p)
    out["n_units"] = float(len(y))
    return out


def best_thresholds(
    y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray | None = None, default: float = 0.5
) -> np.ndarray:
    """Per-label threshold that maximises F1 on (dev or out-of-fold) predictions.

    Ties go to the threshold closest to ``default``, and a label with no positives keeps
    ``default``: with few examples, extreme thresholds are fitted noise.
    """
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(probs, dtype=float)
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3) if grid is None else grid
    out = np.full(y.shape[1], default, dtype=float)
    for j in range(y.shape[1]):
        if y[:, j].sum() == 0:
            continue
        best = (-1.0, 0.0)
        for t in grid:
            pred = p[:, j] >= t
            tp = float((pred & (y[:, j] == 1)).sum())
            f1 = _prf(tp, float((pred & (y[:, j] == 0)).sum()), float((~pred & (y[:, j] == 1)).sum()))[2]
            key = (round(f1, 6), -abs(t - default))
            if key > best:
                best, out[j] = key, t
    return out
