"""Exact-span scoring of a segmentation against gold units.

A predicted unit counts only if its start and end both equal a gold unit's in the same article.
Articles that appear in only one of the two files are reported, and their units count as missed
(gold only) or spurious (prediction only), so a forgotten article cannot raise the score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .schema import Unit


@dataclass(frozen=True)
class Mismatch:
    kind: str  # "missed" (gold span not predicted) or "spurious" (predicted span not in gold)
    doc_id: str
    start: int
    end: int
    text: str


@dataclass
class SpanScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    gold_only_docs: list[str] = field(default_factory=list)
    pred_only_docs: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def score_spans(gold: Iterable[Unit], pred: Iterable[Unit]) -> SpanScore:
    by_doc: dict[str, dict[str, dict[tuple[int, int], str]]] = defaultdict(lambda: {"g": {}, "p": {}})
    for u in gold:
        by_doc[u.doc_id]["g"][(u.start, u.end)] = u.text
    for u in pred:
        by_doc[u.doc_id]["p"][(u.start, u.end)] = u.text
    score = SpanScore()
    for doc_id in sorted(by_doc):
        g, p = by_doc[doc_id]["g"], by_doc[doc_id]["p"]
        if not p:
            score.gold_only_docs.append(doc_id)
        if not g:
            score.pred_only_docs.append(doc_id)
        hits = g.keys() & p.keys()
        score.tp += len(hits)
        score.fn += len(g) - len(hits)
        score.fp += len(p) - len(hits)
        for kind, spans, other in (("missed", g, p), ("spurious", p, g)):
            score.mismatches += [
                Mismatch(kind, doc_id, s, e, spans[(s, e)]) for s, e in sorted(spans) if (s, e) not in other
            ]
    score.mismatches.sort(key=lambda m: (m.doc_id, m.start, m.kind))
    return score
