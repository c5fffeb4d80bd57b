"""Does an article-level signal, added after training, correct the unit labels?

    python scripts/article_context_study.py --model models/release \\
        --gold data/seed_units.jsonl data/seed_stance.tsv \\
        --gold ../shared/corpus/real-dev/units.jsonl ../shared/corpus/real-dev/articles.tsv

The codebook's `pro-enforcement` is a stance (rule 6): a unit that describes enforcement, or
argues money or jurisdiction, in a piece against enforcement does not carry it. A unit classifier
reads one unit (and its neighbour); the piece's direction is spread over all its units. This study
measures the simplest article-level signal on top of a trained model, without retraining it:

- for each label, a logistic regression ("stacker") on the unit's own logit for that label and
  the article's mean logit for each of the four labels (five inputs);
- fitted on the model's **dev articles** (training-side held-out articles, the ones its epoch and
  thresholds were chosen on), with per-label thresholds tuned on the stacked dev probabilities
  (``pipeline.metrics.best_thresholds``), so nothing is fitted on the scored files;
- scored on each ``--gold`` file (units with labels; optionally an article stance TSV) next to
  the model's own decisions: per label P / R / F1, macro-F1, exact label set, and article stance
  (``pipeline.stance``) from each set of decisions.

Gold files are read at run time (third-party text stays where it is). Prints a Markdown table and,
with ``--out``, writes ``article_context.json`` there.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.config import Config
from pipeline.data import label_matrix, load_units
from pipeline.metrics import best_thresholds, multilabel_metrics
from pipeline.modeling import Manifest
from pipeline.predict import Labeller
from pipeline.run import split_units
from pipeline.schema import LABELS
from pipeline.stance import article_stance, read_stances, stance_accuracy


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def article_features(probs: np.ndarray, docs: list[str]) -> list[np.ndarray]:
    """Per label: [unit logit, article mean logit of each label]."""
    z = logit(probs)
    means = np.zeros_like(z)
    index = defaultdict(list)
    for i, d in enumerate(docs):
        index[d].append(i)
    for rows in index.values():
        means[rows] = z[rows].mean(axis=0)
    return [np.c_[z[:, j], means] for j in range(len(LABELS))]


def stances(units, pred: np.ndarray) -> dict[str, str]:
    by_doc = defaultdict(list)
    for u, row in zip(units, pred):
        by_doc[u.doc_id].append([lab for lab, on in zip(LABELS, row) if on])
    return {d: article_stance(sets) for d, sets in by_doc.items()}


def summary(y, probs, thresholds, units, gold_stance) -> dict:
    m = multilabel_metrics(y, probs, thresholds)
    out = {k: m[k] for k in m if k.endswith(("_precision", "_recall", "_f1", "_support")) or k == "exact_match"}
    if gold_stance:
        pred = probs >= np.asarray(thresholds)
        out["stance"] = stance_accuracy(stances(units, pred), gold_stance)
    return out


def study(model_dir: Path, golds: list[tuple[Path, Path | None]], c: float) -> dict:
    manifest = Manifest.load(model_dir)
    dev = split_units(Config.model_validate(manifest.config)).dev
    labeller = Labeller(model_dir, precision="fp32")
    p_dev = labeller.score_units(dev)
    y_dev = label_matrix(dev)
    f_dev = article_features(p_dev, [u.doc_id for u in dev])
    stackers = [LogisticRegression(C=c, max_iter=2000).fit(f_dev[j], y_dev[:, j]) for j in range(len(LABELS))]
    s_dev = np.column_stack([m.predict_proba(f_dev[j])[:, 1] for j, m in enumerate(stackers)])
    t_stack = best_thresholds(y_dev, s_dev)
    result = {"model": str(model_dir), "C": c, "dev_units": len(dev),
              "coefficients": {lab: [round(float(v), 3) for v in m.coef_[0]] for lab, m in zip(LABELS, stackers)},
              "dev": {"model": multilabel_metrics(y_dev, p_dev, manifest.threshold_list())["macro_f1"],
                      "stacked": multilabel_metrics(y_dev, s_dev, t_stack)["macro_f1"]},
              "gold": {}}
    for gold, stance_file in golds:
        units = load_units([gold])
        y = label_matrix(units)
        p = labeller.score_units(units)
        f = article_features(p, [u.doc_id for u in units])
        s = np.column_stack([m.predict_proba(f[j])[:, 1] for j, m in enumerate(stackers)])
        gs = read_stances(stance_file) if stance_file else None
        result["gold"][str(gold)] = {"model": summary(y, p, manifest.threshold_list(), units, gs),
                                     "stacked": summary(y, s, t_stack, units, gs)}
    return result


def table(results: list[dict]) -> str:
    head = "| model | scored on | decisions | " + " | ".join(LABELS) + " | macro-F1 | exact set | stance one-sided right (wrong sign) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        for gold, both in r["gold"].items():
            for kind in ("model", "stacked"):
                m = both[kind]
                cells = [f"{m[f'{lab}_precision']:.3f} / {m[f'{lab}_recall']:.3f} / **{m[f'{lab}_f1']:.3f}**" for lab in LABELS]
                macro = np.mean([m[f"{lab}_f1"] for lab in LABELS])
                st = m.get("stance")
                stance = (f"{st['one_sided_right_n']:.0f} / {st['n_one_sided']:.0f} ({st['wrong_sign_n']:.0f})"
                          if st else "")
                lines.append(f"| {Path(r['model']).name} | {Path(gold).parent.name}/{Path(gold).name} | {kind} | "
                             + " | ".join(cells) + f" | **{macro:.3f}** | {m['exact_match']:.3f} | {stance} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, action="append", required=True, help="a model folder (repeatable)")
    ap.add_argument("--gold", nargs="+", action="append", required=True, metavar=("UNITS", "STANCE"),
                    help="gold units JSONL, optionally followed by an article stance TSV (repeatable)")
    ap.add_argument("--C", type=float, default=0.1, help="inverse L2 strength of the stackers (default 0.1)")
    ap.add_argument("--out", type=Path, help="folder for article_context.json")
    args = ap.parse_args()
    golds = []
    for g in args.gold:
        if len(g) > 2:
            ap.error(f"--gold takes a units file and at most one stance file, got {len(g)} paths")
        golds.append((Path(g[0]), Path(g[1]) if len(g) == 2 else None))
    results = [study(m, golds, args.C) for m in args.model]
    print(table(results))
    for r in results:
        print(f"\n{r['model']}: dev macro-F1 model {r['dev']['model']:.3f}, stacked {r['dev']['stacked']:.3f} "
              f"(in-sample); coefficients [unit, article mean {', '.join(LABELS)}]:")
        for lab, coef in r["coefficients"].items():
            print(f"  {lab}: {coef}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "article_context.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
