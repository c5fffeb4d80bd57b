"""PNG figures of an evaluation: per-label precision-recall curves and label co-occurrence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .schema import LABELS, atomic_write


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def precision_recall_curves(y_true: np.ndarray, probs: np.ndarray, thresholds: np.ndarray, path: Path) -> Path:
    """One panel per label: the PR curve, with the operating point the model's threshold picks."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(LABELS), figsize=(4 * len(LABELS), 3.8), sharey=True)
    thr = np.broadcast_to(thresholds, probs.shape)
    for j, (ax, label) in enumerate(zip(axes, LABELS)):
        y, p = y_true[:, j], probs[:, j]
        if y.sum() == 0:
            ax.text(0.5, 0.5, "no positives", ha="center", va="center")
        else:
            prec, rec, _ = precision_recall_curve(y, p)
            ax.plot(rec, prec, lw=2)
            pred = p >= thr[:, j]
            tp = (pred & (y == 1)).sum()
            op_p = tp / pred.sum() if pred.sum() else 0.0
            ax.scatter([tp / y.sum()], [op_p], color="crimson", zorder=3, label="threshold")
            ax.set_title(f"{label}\nAP {average_precision_score(y, p):.2f}, n={int(y.sum())}")
            ax.legend(loc="lower left")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall")
    axes[0].set_ylabel("precision")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _save(fig, path: Path) -> None:
    with atomic_write(path, "wb") as f:  # a crash never leaves half a PNG
        fig.savefig(f, dpi=110, format="png")


def label_confusion(y_true: np.ndarray, y_pred: np.ndarray, path: Path) -> Path:
    """Left: gold label co-occurrence counts. Right: for units gold-labelled row, share predicted column."""
    plt = _pyplot()
    co = y_true.T @ y_true
    pred_given_gold = (y_true.T @ y_pred) / np.maximum(y_true.sum(axis=0)[:, None], 1)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, mat, title, fmt in (
        (axes[0], co, "gold co-occurrence (units)", "{:.0f}"),
        (axes[1], pred_given_gold, "P(predicted col | gold row)", "{:.2f}"),
    ):
        im = ax.imshow(mat, cmap="Blues")
        ax.set_xticks(range(len(LABELS)), LABELS, rotation=30, ha="right")
        ax.set_yticks(range(len(LABELS)), LABELS)
        for i in range(len(LABELS)):
            for k in range(len(LABELS)):
                ax.text(k, i, fmt.format(mat[i, k]), ha="center", va="center",
                        color="white" if mat[i, k] > mat.max() / 2 else "black")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path
