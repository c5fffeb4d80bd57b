"""Score a model directory on gold units: per-label and aggregate metrics, and the predictions."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import label_matrix
from .metrics import multilabel_metrics
from .predict import Labeller
from .schema import PredictedUnit, Unit, atomic_write, label_sets, predicted_units
from .stance import stance_accuracy, stance_balance, stance_from_balance


@dataclass
class Evaluation:
    metrics: dict[str, float]
    units: list[Unit]
    probs: np.ndarray
    thresholds: np.ndarray  # per label, or per unit and label

    @property
    def y_true(self) -> np.ndarray:
        return label_matrix(self.units)

    def predictions(self) -> list[PredictedUnit]:
        return predicted_units(self.units, self.probs, self.thresholds)


def score(units: Sequence[Unit], probs: np.ndarray, thresholds: np.ndarray) -> Evaluation:
    units = list(units)
    return Evaluation(multilabel_metrics(label_matrix(units), probs, thresholds), units, probs, thresholds)


def evaluate_model(
    model_dir: Path, gold: Sequence[Unit], *, device: str = "auto", batch_size: int = 64, backend: str = "torch",
    precision: str = "fp32",
) -> Evaluation:
    """Score ``gold`` with a saved model. fp32 by default: the precision its thresholds were tuned
    in, so reported metrics do not depend on whether this machine's CPU or GPU has bf16."""
    labeller = Labeller(model_dir, device=device, batch_size=batch_size, backend=backend, precision=precision)
    probs = labeller.score_units(gold)
    return score(gold, probs, labeller.thresholds)


def article_stances(ev: Evaluation) -> dict[str, tuple[float | None, str]]:
    """Each article's stance balance and stance (``pipeline.stance``) from the predicted labels."""
    by_doc: dict[str, list[list[str]]] = {}
    for unit, labels in zip(ev.units, label_sets(ev.probs, ev.thresholds)):
        by_doc.setdefault(unit.doc_id, []).append(labels)
    out = {}
    for doc, sets in by_doc.items():
        balance = stance_balance(sets)
        out[doc] = (balance, stance_from_balance(balance))
    return out


def score_stance(ev: Evaluation, gold: dict[str, str]) -> tuple[dict[str, float], list[dict]]:
    """Predicted article stances against gold ones: ``stance_*`` metrics and one row per article
    that both name (doc_id, gold, predicted, balance)."""
    predicted = article_stances(ev)
    metrics = stance_accuracy({d: s for d, (_, s) in predicted.items()}, gold)
    rows = [{"doc_id": d, "gold": gold[d], "predicted": predicted[d][1],
             "balance": "" if predicted[d][0] is None else round(predicted[d][0], 4)}
            for d in gold if d in predicted]
    return {f"stance_{k}": v for k, v in metrics.items()}, rows


def write_stance_tsv(rows: list[dict] | None, path: Path) -> None:
    """``score_stance``'s rows as a TSV (doc_id, gold, predicted, balance); with no rows, an earlier
    run's file at ``path`` is removed, so a folder never pairs new metrics with an old stance table."""
    if not rows:
        path.unlink(missing_ok=True)
        return
    with atomic_write(path) as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
