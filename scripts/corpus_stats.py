"""Print the label counts, co-occurrences and near-duplicate rate of a gold units file (markdown).

    python scripts/corpus_stats.py data/synthetic/units.jsonl [--against data/seed_units.jsonl]
"""

import argparse
import itertools
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.schema import LABELS, read_units


def near_duplicates(texts: list[str], others: list[str] = (), threshold: float = 0.7) -> list[int]:
    """Indices of ``texts`` whose character 5-gram Jaccard similarity to another unit exceeds threshold."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(analyzer="char", ngram_range=(5, 5), binary=True, lowercase=False)
    x = vec.fit_transform(list(texts) + list(others)).astype(np.int32)
    sizes = np.asarray(x.sum(axis=1)).ravel()
    inter = (x[: len(texts)] @ x.T).toarray()
    union = sizes[: len(texts), None] + sizes[None, :] - inter
    jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    np.fill_diagonal(jac[:, : len(texts)], 0.0)
    return [int(i) for i in np.flatnonzero((jac > threshold).any(axis=1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("units", type=Path)
    ap.add_argument("--against", type=Path, default=None)
    args = ap.parse_args()
    units = read_units(args.units)
    n = len(units)
    counts = Counter(label for u in units for label in u.labels)
    none = sum(not u.labels for u in units)
    print(f"| articles | {len({u.doc_id for u in units})} |\n| units | {n} |")
    for label in LABELS:
        print(f"| {label} | {counts[label]} |")
    print(f"| no label | {none} ({none / n:.1%}) |\n")
    print("| co-occurrence | units |\n|---|---|")
    pairs = Counter(p for u in units for p in itertools.combinations(sorted(u.labels), 2))
    for (a, b), k in pairs.most_common():
        print(f"| {a} + {b} | {k} |")
    others = [u.text for u in read_units(args.against)] if args.against else []
    dups = near_duplicates([u.text for u in units], others)
    print(f"\nnear-duplicates (char 5-gram Jaccard > 0.7): {len(dups)} units ({len(dups) / n:.2%})")
    for i in dups[:20]:
        print(f"  {units[i].unit_id}: {units[i].text[:90]!r}")


if __name__ == "__main__":
    main()
