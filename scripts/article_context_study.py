"""Does an article-level signal, added after training, correct the unit labels?

    python scripts/article_context_study.py --model models/default \\
        --gold data/seed_units.jsonl data/seed_stance.tsv \\
        --gold ../shared/corpus/real-dev/units.jsonl ../shared/corpus/real-dev/articles.tsv
    python scripts/article_context_study.py --cv out/cv-132 --gold data/seed_units.jsonl data/seed_stance.tsv \\
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

With ``--cv`` (a folder from ``argmine cv --keep-models``), every fold model gets its own stacker
from its own dev articles; a gold file that is the cross-validation's ``data.eval`` is then scored
out of fold (each article by the fold model that did not train on it, pooled: the seed CV
headline), and any other gold file by each fold model in turn, reported as the mean over folds.

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
from pipeline.cv import fold_split
from pipeline.data import label_matrix, load_units
from pipeline.evaluate import article_stances, score
from pipeline.metrics import best_thresholds, multilabel_metrics
from pipeline.modeling import Manifest
from pipeline.predict import Labeller
from pipeline.run import split_units
from pipeline.schema import LABELS
from pipeline.stance import read_stances, stance_accuracy


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


def summary(y, probs, thresholds, units, gold_stance) -> dict:
    m = multilabel_metrics(y, probs, thresholds)
    out = {k: m[k] for k in m if k.endswith(("_precision", "_recall", "_f1", "_support")) or k == "exact_match"}
    if gold_stance:
        predicted = article_stances(score(units, probs, thresholds))
        out["stance"] = stance_accuracy({d: s for d, (_, s) in predicted.items()}, gold_stance)
    return out


def fit_stackers(model_dir: Path, c: float, dev=None):
    """The model's labeller and thresholds, and stackers fitted on its dev articles (``dev``: a cv
    fold's, from ``pipeline.cv.fold_split``; by default the model config's own split)."""
    manifest = Manifest.load(model_dir)
    if dev is None:
        dev = split_units(Config.model_validate(manifest.config)).dev
    labeller = Labeller(model_dir, precision="fp32")
    p_dev = labeller.score_units(dev)
    y_dev = label_matrix(dev)
    f_dev = article_features(p_dev, [u.doc_id for u in dev])
    stackers = [LogisticRegression(C=c, max_iter=2000).fit(f_dev[j], y_dev[:, j]) for j in range(len(LABELS))]
    s_dev = np.column_stack([m.predict_proba(f_dev[j])[:, 1] for j, m in enumerate(stackers)])
    t_stack = best_thresholds(y_dev, s_dev)
    return manifest, labeller, stackers, t_stack, (y_dev, p_dev, s_dev, dev)


def both(labeller, manifest, stackers, t_stack, units):
    """(model probabilities, model thresholds, stacked probabilities, stacker thresholds) on units."""
    p = labeller.score_units(units)
    f = article_features(p, [u.doc_id for u in units])
    s = np.column_stack([m.predict_proba(f[j])[:, 1] for j, m in enumerate(stackers)])
    return p, np.broadcast_to(manifest.threshold_list(), p.shape), s, np.broadcast_to(t_stack, s.shape)


def study_cv(cv_dir: Path, golds: list[tuple[Path, Path | None]], c: float) -> dict:
    """Per fold model: a stacker from its dev; the cv's eval file out of fold, others per fold."""
    meta = json.loads((cv_dir / "cv_metrics.json").read_text(encoding="utf-8"))
    fold_docs = meta["fold_docs"]
    fitted = []
    for i, held in enumerate(fold_docs):
        fold_dir = cv_dir / "folds" / f"fold-{i}"
        cfg = Config.model_validate(Manifest.load(fold_dir).config)
        dev = fold_split(cfg, load_units(cfg.data.train), load_units([cfg.data.eval]), held)[1]
        fitted.append(fit_stackers(fold_dir, c, dev))
    result = {"model": str(cv_dir), "C": c, "dev_units": [len(f[4][3]) for f in fitted],
              "coefficients": {lab: [round(float(v), 3) for v in np.mean([f[2][j].coef_[0] for f in fitted], axis=0)]
                               for j, lab in enumerate(LABELS)},
              "dev": {"model": float(np.mean([multilabel_metrics(f[4][0], f[4][1], f[0].threshold_list())["macro_f1"]
                                              for f in fitted])),
                      "stacked": float(np.mean([multilabel_metrics(f[4][0], f[4][2], f[3])["macro_f1"]
                                                for f in fitted]))},
              "gold": {}}
    for gold, stance_file in golds:
        units = load_units([gold])
        gs = read_stances(stance_file) if stance_file else None
        docs = {u.doc_id for u in units}
        if docs == {d for fold in fold_docs for d in fold}:  # the cv's own eval file: out of fold, pooled
            parts = [both(f[1], f[0], f[2], f[3], [u for u in units if u.doc_id in set(fold)])
                     for f, fold in zip(fitted, fold_docs)]
            ordered = [u for fold in fold_docs for u in units if u.doc_id in set(fold)]
            y = label_matrix(ordered)
            p, tp, s, ts = (np.concatenate([part[k] for part in parts]) for k in range(4))
            result["gold"][str(gold)] = {"model": summary(y, p, tp, ordered, gs),
                                         "stacked": summary(y, s, ts, ordered, gs), "how": "out of fold, pooled"}
        else:
            y = label_matrix(units)
            per = [both(f[1], f[0], f[2], f[3], units) for f in fitted]
            result["gold"][str(gold)] = {
                kind: _mean_summaries([summary(y, part[k], part[k + 1], units, gs) for part in per])
                for kind, k in (("model", 0), ("stacked", 2))} | {"how": f"mean over {len(per)} fold models"}
    return result


def _mean_summaries(items: list[dict]) -> dict:
    out = {k: float(np.mean([it[k] for it in items])) for k in items[0] if k != "stance"}
    if "stance" in items[0]:
        out["stance"] = {k: float(np.mean([it["stance"][k] for it in items])) for k in items[0]["stance"]}
    return out


def study(model_dir: Path, golds: list[tuple[Path, Path | None]], c: float) -> dict:
    manifest, labeller, stackers, t_stack, (y_dev, p_dev, s_dev, dev) = fit_stackers(model_dir, c)
    result = {"model": str(model_dir), "C": c, "dev_units": len(dev),
              "coefficients": {lab: [round(float(v), 3) for v in m.coef_[0]] for lab, m in zip(LABELS, stackers)},
              "dev": {"model": multilabel_metrics(y_dev, p_dev, manifest.threshold_list())["macro_f1"],
                      "stacked": multilabel_metrics(y_dev, s_dev, t_stack)["macro_f1"]},
              "gold": {}}
    for gold, stance_file in golds:
        units = load_units([gold])
        y = label_matrix(units)
        p, tp, s, ts = both(labeller, manifest, stackers, t_stack, units)
        gs = read_stances(stance_file) if stance_file else None
        result["gold"][str(gold)] = {"model": summary(y, p, tp, units, gs), "stacked": summary(y, s, ts, units, gs),
                                     "how": "one model"}
    return result


def table(results: list[dict]) -> str:
    head = "| model | scored on | how | decisions | " + " | ".join(LABELS) + " | macro-F1 | exact set | stance one-sided right (wrong sign) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        for gold, scored in r["gold"].items():
            for kind in ("model", "stacked"):
                m = scored[kind]
                cells = [f"{m[f'{lab}_precision']:.3f} / {m[f'{lab}_recall']:.3f} / **{m[f'{lab}_f1']:.3f}**" for lab in LABELS]
                macro = np.mean([m[f"{lab}_f1"] for lab in LABELS])
                st = m.get("stance")
                stance = (f"{st['one_sided_right_n']:.0f} / {st['n_one_sided']:.0f} ({st['wrong_sign_n']:.0f})"
                          if st else "")
                lines.append(f"| {Path(r['model']).name} | {Path(gold).parent.name}/{Path(gold).name} | {scored['how']} | {kind} | "
                             + " | ".join(cells) + f" | **{macro:.3f}** | {m['exact_match']:.3f} | {stance} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, action="append", default=[], help="a model folder (repeatable)")
    ap.add_argument("--cv", type=Path, action="append", default=[],
                    help="a folder from `argmine cv --keep-models` (repeatable)")
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
    if not args.model and not args.cv:
        ap.error("give --model or --cv")
    results = [study(m, golds, args.C) for m in args.model] + [study_cv(d, golds, args.C) for d in args.cv]
    print(table(results))
    for r in results:
        print(f"\n{r['model']}: dev macro-F1 model {r['dev']['model']:.3f}, stacked {r['dev']['stacked']:.3f} "
              f"(in-sample; the mean over fold models for --cv); coefficients [unit, article mean "
              f"{', '.join(LABELS)}]:")
        for lab, coef in r["coefficients"].items():
            print(f"  {lab}: {coef}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "article_context.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
