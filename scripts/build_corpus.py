"""Turn the annotators' drafts, the second annotation pass and the adjudication into the gold file.

Each draft ``data/synthetic/drafts/<doc_id>.jsonl`` lists an article's units in order as
``{"text": ..., "labels": [...]}`` (the writer's segmentation and labels, the first pass). This
script finds each text in the raw article (searching on from the end of the previous unit) and
records exact offsets. It writes:

- ``annotation/first_pass.jsonl``: the writers' labels, in the codebook format;
- ``units.jsonl``: the gold units. Where the blind second pass (``annotation/second_pass.jsonl``)
  gives the same label set as the writer, that set; where they differ, the adjudicated set from
  ``annotation/adjudication.jsonl``. Without a second pass, the writers' labels.

It stops at the first unit it cannot place and at a disagreement with no adjudication.

    python scripts/build_corpus.py
"""

import json
import sys
from pathlib import Path

from pipeline.schema import Unit, read_units, write_units

ROOT = Path(__file__).resolve().parents[1]
SYN = ROOT / "data" / "synthetic"
ANN = SYN / "annotation"


def first_pass() -> list[Unit] | None:
    units = []
    for draft in sorted((SYN / "drafts").glob("*.jsonl")):
        doc_id = draft.stem
        text = (SYN / "raw" / f"{doc_id}.txt").read_text(encoding="utf-8")
        pos = 0
        for i, line in enumerate(l for l in draft.read_text(encoding="utf-8").splitlines() if l.strip()):
            row = json.loads(line)
            start = text.find(row["text"], pos)
            if start < 0:
                print(f"{draft}:{i + 1}: unit text not found after offset {pos}: {row['text'][:60]!r}")
                return None
            end = start + len(row["text"])
            units.append(Unit(doc_id=doc_id, unit_id=f"{doc_id}:{i}", start=start, end=end, text=row["text"],
                              labels=sorted(set(row["labels"]))))
            pos = end
    return units


def adjudicated(first: list[Unit]) -> list[Unit] | None:
    second_path, adjudication_path = ANN / "second_pass.jsonl", ANN / "adjudication.jsonl"
    if not second_path.exists():
        return first
    second = {u.unit_id: u for u in read_units(second_path)}
    decided = {}
    if adjudication_path.exists():
        for line in adjudication_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                decided[row["unit_id"]] = sorted(set(row["labels"]))
    gold = []
    for u in first:
        other = second.get(u.unit_id)
        if other is None or (other.start, other.end) != (u.start, u.end):
            print(f"{second_path}: unit {u.unit_id} missing or with another span")
            return None
        if other.labels == u.labels:
            gold.append(u)
        elif u.unit_id in decided:
            gold.append(u.model_copy(update={"labels": decided[u.unit_id]}))
        else:
            print(f"{adjudication_path}: the passes disagree on {u.unit_id} and it has no adjudication")
            return None
    return gold


def main() -> int:
    first = first_pass()
    if first is None:
        return 1
    ANN.mkdir(exist_ok=True)
    write_units(ANN / "first_pass.jsonl", first)
    gold = adjudicated(first)
    if gold is None:
        return 1
    n = write_units(SYN / "units.jsonl", gold)
    changed = sum(a.labels != b.labels for a, b in zip(first, gold))
    print(f"{n} units from {len({u.doc_id for u in gold})} articles -> {SYN / 'units.jsonl'} "
          f"({changed} label sets changed from the first pass by adjudication)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
