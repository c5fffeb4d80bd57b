"""Score a model directory on gold units: per-label and aggregate metrics, and the predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import label_matrix
from .metrics import multilabel_metrics
from .predict import Labeller
from .schema import PredictedUnit, Unit, predicted_units


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
