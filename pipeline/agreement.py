"""Inter-annotator agreement between two labellings of the same units.

Both files are codebook JSONL over the same units, and either may be a model's predictions (rows
with ``scores``). Units are matched by ``unit_id`` when both files use the same ids, else by span
(a model's ids come from its own segmentation). For each label the two coders' yes/no decisions give
observed agreement, Cohen's kappa and Krippendorff's alpha; the unit-level figure is the share of
units whose whole label sets are identical. ``disagreements`` lists the units an adjudicator has to
decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .schema import LABELS, Label, Unit, read_units


@dataclass
class Agreement:
    n_units: int
    exact: float  # share of units with identical label sets
    per_label: dict[str, dict[str, float]]  # label -> observed, kappa, alpha, positives_a, positives_b

    def macro(self, key: str) -> float:
        """Mean over the labels where ``key`` is defined (a label nobody used has NaN)."""
        vals = [m[key] for m in self.per_label.values() if not np.isnan(m[key])]
        return float(np.mean(vals)) if vals else float("nan")

    @property
    def macro_kappa(self) -> float:
        return self.macro("kappa")

    @property
    def macro_alpha(self) -> float:
        return self.macro("alpha")


class _MaybePredicted(Unit):
    """A row of a gold file or of a model's predictions, whose ``scores`` play no part here."""

    scores: dict[Label, float] | None = None


def read_labelling(path: Path) -> list[Unit]:
    """One coder's units, with ``read_units``' ``file:line`` errors; a predictions file is accepted and
    its scores dropped (the rows were validated already, so the plain units need no second pass)."""
    return [Unit.model_construct(**u.model_dump(exclude={"scores"})) for u in read_units(path, _MaybePredicted)]


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two binary decision vectors; NaN when chance agreement is total."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    observed = float(np.mean(a == b))
    pa, pb = float(np.mean(a)), float(np.mean(b))
    expected = pa * pb + (1 - pa) * (1 - pb)
    return float("nan") if expected == 1.0 else (observed - expected) / (1 - expected)


def krippendorff_alpha(a: np.ndarray, b: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of two coders' binary decisions on every unit; NaN when D_e = 0.

    From the coincidence matrix: each unit adds its pair of values in both orders, so o[c, k] counts
    the c-k pairs and n_c = o[c].sum() the uses of value c among n = 2 * units values. Then
    alpha = 1 - D_o / D_e with D_o = sum_{c != k} o[c, k] / n and
    D_e = sum_{c != k} n_c * n_k / (n * (n - 1)). Unlike kappa it pools both coders' marginals and
    draws expected pairs without replacement, a small-sample correction.
    """
    a, b = np.asarray(a, bool).astype(int), np.asarray(b, bool).astype(int)
    o = np.zeros((2, 2))
    np.add.at(o, (a, b), 1)
    o += o.T
    n_c = o.sum(axis=1)
    n = n_c.sum()
    off = ~np.eye(2, dtype=bool)
    d_o = o[off].sum() / n
    d_e = np.outer(n_c, n_c)[off].sum() / (n * (n - 1))
    return float("nan") if d_e == 0 else float(1 - d_o / d_e)


def _span(u: Unit) -> tuple[str, int, int]:
    return u.doc_id, u.start, u.end


def _first(units: Sequence[Unit]) -> str:
    u = units[0] if units else None
    return f" (first {u.unit_id}, {u.doc_id} [{u.start}:{u.end}])" if u else ""


def pair_units(a: Sequence[Unit], b: Sequence[Unit], names: tuple[str, str] = ("A", "B")) -> list[tuple[Unit, Unit]]:
    """Match two labellings unit by unit: by unit_id when both files use the same ids (spans must then
    agree), else by span (doc_id, start, end), as for a model's own segmentation. Both must cover
    exactly the same spans."""
    for name, units in zip(names, (a, b)):
        seen = set()
        for u in units:
            if _span(u) in seen:
                raise InputError(f"{name}: two units have the span {u.doc_id} [{u.start}:{u.end}]")
            seen.add(_span(u))
    key = (lambda u: u.unit_id) if {u.unit_id for u in a} == {v.unit_id for v in b} else _span
    in_a, in_b = {key(u) for u in a}, {key(v): v for v in b}
    only_a = [u for u in a if key(u) not in in_b]
    only_b = [v for v in b if key(v) not in in_a]
    if only_a or only_b:
        raise InputError(f"{names[0]} and {names[1]} do not label the same units: {len(only_a)} only in "
                         f"{names[0]}{_first(only_a)}, {len(only_b)} only in {names[1]}{_first(only_b)}")
    pairs = []
    for u in a:
        v = in_b[key(u)]
        if _span(u) != _span(v):
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
                            "alpha": krippendorff_alpha(a, b), "positives_a": int(a.sum()),
                            "positives_b": int(b.sum())}
    exact = float(np.mean([u.labels == v.labels for u, v in pairs]))
    return Agreement(len(pairs), exact, per_label)


def disagreements(pairs: Sequence[tuple[Unit, Unit]]) -> list[tuple[Unit, Unit]]:
    return [(u, v) for u, v in pairs if u.labels != v.labels]
