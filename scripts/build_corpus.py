"""Turn the annotators' drafts into the gold file of the synthetic corpus.

Each draft ``data/synthetic/drafts/<doc_id>.jsonl`` lists an article's units in order as
``{"text": ..., "labels": [...]}``; this script finds each text in the raw article (searching on
from the end of the previous unit), records exact offsets, and writes
``data/synthetic/units.jsonl`` in the codebook format. It stops at the first unit it cannot place.

    python scripts/build_corpus.py
"""

import json
import sys
from pathlib import Path

from pipeline.schema import Unit, write_units

ROOT = Path(__file__).resolve().parents[1]
SYN = ROOT / "data" / "synthetic"


def main() -> int:
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
                return 1
            end = start + len(row["text"])
            units.append(Unit(doc_id=doc_id, unit_id=f"{doc_id}:{i}", start=start, end=end, text=row["text"],
                              labels=sorted(set(row["labels"]))))
            pos = end
    n = write_units(SYN / "units.jsonl", units)
    print(f"{n} units from {len({u.doc_id for u in units})} articles -> {SYN / 'units.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
