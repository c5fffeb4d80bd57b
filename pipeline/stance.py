"""An article's stance on state and local immigration enforcement, read off its labelled units.

The codebook's `pro-enforcement` is a stance (a unit argues for enforcement) and
`civil-liberties` is the consideration most pieces against enforcement argue from, so the
balance between them,

    balance = (pro - civ) / (pro + civ)     (units with each label; from -1 to +1)

places an article: `pro` above +STANCE_MARGIN, `against` below -STANCE_MARGIN, `mixed` in
between (with the margin at 0: a tie) or when no unit carries either label. `fiscal` and `federalism` are argued on both sides
and do not count. The margin was chosen on the synthetic corpus's gold units and stance labels
(`data/synthetic/stance.tsv`), never on real articles: see docs/RESULTS.md, "Article stance".

The same definitions as the real development set's `articles.tsv`: `pro` = for stronger
enforcement or state/local cooperation with ICE, `against` = against it or for sanctuary or
limiting policies, `mixed` = no clear direction.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from .errors import InputError

STANCES = ("pro", "against", "mixed")
PRO, CIV = "pro-enforcement", "civil-liberties"
# Chosen on the synthetic corpus's gold units and its 132 stance labels, by three-class accuracy:
# margins 0 / 0.1 / 0.2 / 0.34 / 0.5 give 83% / 82% / 82% / 75% / 61% (one-sided articles right:
# 106 / 104 / 101 / 91 / 71 of 121). So an article is `mixed` only on an exact tie, or when no unit
# carries either label.
STANCE_MARGIN = 0.0


def stance_balance(label_sets: Iterable[Sequence[str]]) -> float | None:
    """(pro - civ) / (pro + civ) over an article's units; None when neither label occurs."""
    pro = civ = 0
    for labels in label_sets:
        pro += PRO in labels
        civ += CIV in labels
    return (pro - civ) / (pro + civ) if pro + civ else None


def stance_from_balance(balance: float | None, margin: float = STANCE_MARGIN) -> str:
    if balance is None or -margin <= balance <= margin:
        return "mixed"
    return "pro" if balance > 0 else "against"


def article_stance(label_sets: Iterable[Sequence[str]], margin: float = STANCE_MARGIN) -> str:
    """`pro`, `against` or `mixed` for an article, from its units' label sets."""
    return stance_from_balance(stance_balance(label_sets), margin)


def read_stances(path: Path, known: Collection[str] | None = None, known_from: Path | None = None) -> dict[str, str]:
    """A ``doc_id``/``stance`` TSV (such as a real-dev ``articles.tsv``), checked row by row.

    With ``known`` (the doc_ids of the units it goes with, read from ``known_from``), an id that
    names none of them is an error too: a typo would otherwise drop an article from the score.
    """
    path = Path(path)
    out: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:  # -sig: a spreadsheet's byte-order mark
            reader = csv.DictReader(f, delimiter="\t")
            missing = {"doc_id", "stance"} - set(reader.fieldnames or ())
            if missing:
                raise InputError(f"{path}:1: needs tab-separated doc_id and stance columns "
                                 f"(missing {', '.join(sorted(missing))})")
            for row in reader:
                where = f"{path}:{reader.line_num}"
                doc_id, stance = (row["doc_id"] or "").strip(), row["stance"]
                if not doc_id:
                    raise InputError(f"{where}: empty doc_id")
                if stance not in STANCES:
                    raise InputError(f"{where}: stance {stance!r} is not one of {', '.join(STANCES)}")
                if doc_id in out:
                    raise InputError(f"{where}: doc_id {doc_id!r} appears twice")
                if known is not None and doc_id not in known:
                    raise InputError(f"{where}: doc_id {doc_id!r} is not an article in {known_from or 'the units'}")
                out[doc_id] = stance
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{path}: cannot read stance labels ({err})") from None
    if not out:
        raise InputError(f"{path}: no stance rows")
    return out


def stance_accuracy(predicted: Mapping[str, str], gold: Mapping[str, str]) -> dict[str, float]:
    """How predicted stances compare with gold ones on the articles both name.

    ``one_sided_right``: share of gold `pro`/`against` articles given that stance (the issue's
    measure); ``wrong_sign``: share of them given the opposite one; ``accuracy``: all three classes.
    """
    docs = [d for d in gold if d in predicted]
    one = [d for d in docs if gold[d] != "mixed"]
    right = sum(predicted[d] == gold[d] for d in one)
    wrong = sum(predicted[d] not in (gold[d], "mixed") for d in one)
    return {"n_articles": float(len(docs)), "n_one_sided": float(len(one)),
            "accuracy": sum(predicted[d] == gold[d] for d in docs) / len(docs) if docs else float("nan"),
            "one_sided_right": right / len(one) if one else float("nan"),
            "one_sided_right_n": float(right), "wrong_sign": wrong / len(one) if one else float("nan"),
            "wrong_sign_n": float(wrong)}
