"""Inter-annotator agreement between two labellings of the same units.

Both files are codebook JSONL over the same units (matched by ``unit_id``; spans must agree). For
each label the two annotators' yes/no decisions give observed agreement and Cohen's kappa; the
unit-level figure is the share of units whose whole label sets are identical. ``disagreements``
lists the units an adjudicator has to decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .schema import LABELS, Unit


@dataclass
class Agreement:
    n_units: int
    exact: float  # share of units with identical label sets
    per_label: dict[str, dict[str, float]]  # label -> observed, kappa, positives_a, positives_b

    @property
    def macro_kappa(self) -> float:
        vals = [m["kappa"] for m in self.per_label.values() if not np.isnan(m["kappa"])]
        return float(np.mean(vals)) if vals else float("nan")


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two binary decision vectors; NaN when chance agreement is total."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    observed = float(np.mean(a == b))
    pa, pb = float(np.mean(a)), float(np.mean(b))
    expected = pa * pb + (1 - pa) * (1 - pb)
    return float("nan") if expected == 1.0 else (observed - expected) / (1 - expected)


def pair_units(a: Sequence[Unit], b: Sequence[Unit], names: tuple[str, str] = ("A", "B")) -> list[tuple[Unit, Unit]]:
    """Match two labellings unit by unit; both must cover exactly the same spans."""
    by_id = {u.unit_id: u for u in b}
    only_a = [u.unit_id for u in a if u.unit_id not in by_id]
    only_b = sorted(set(by_id) - {u.unit_id for u in a})
    if only_a or only_b:
        missing = f"{len(only_a)} units only in {names[0]}" + (f" (first {only_a[0]})" if only_a else "")
        missing += f", {len(only_b)} only in {names[1]}" + (f" (first {only_b[0]})" if only_b else "")
        raise InputError(f"the two files do not label the same units: {missing}")
    pairs = []
    for u in a:
        v = by_id[u.unit_id]
        if (u.doc_id, u.start, u.end) != (v.doc_id, v.start, v.end):
            raise InputError(f"unit {u.unit_id}: spans differ between {names[0]} and {names[1]}")
        pairs.append((u, v))
    return pairs


def agreement(pairs: Sequence[tuple[Unit, Unit]]) -> Agreement:
    if not pairs:
        raise InputError("no units to compare")
    per_label = {}
    for label in LABELS:
        a = np.array([label in u.labels for u, _ in pairs])
        b = np.array([label in v.labels for _, v in pairs])
        per_label[label] = {"observed": float(np.mean(a == b)), "kappa": cohen_kappa(a, b),
                            "positives_a": int(a.sum()), "positives_b": int(b.sum())}
    exact = float(np.mean([u.labels == v.labels for u, v in pairs]))
    return Agreement(len(pairs), exact, per_label)


def disagreements(pairs: Sequence[tuple[Unit, Unit]]) -> list[tuple[Unit, Unit]]:
    return [(u, v) for u, v in pairs if u.labels != v.labels]
