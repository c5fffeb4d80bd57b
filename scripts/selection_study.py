"""Does choosing articles by the model's uncertainty (``pipeline.select``) beat choosing at random?

    python scripts/selection_study.py --out out/selection-study
    python scripts/selection_study.py --seeds 5 --rounds 10 --batch 12 --initial 12 --diversity 0.3 \\
        --real-dev ../shared/corpus/real-dev/units.jsonl

A simulated annotation loop on the synthetic corpus (``data/synthetic/units.jsonl``, 132 articles
with gold units) as the pool of articles one could code. For each random seed: train on
``--initial`` random articles, then for ``--rounds`` rounds add ``--batch`` articles from the rest
of the pool, with their gold labels, and retrain. Strategies, all from the same initial articles
in a seed (so they can be compared seed by seed):

- ``random``: the batch drawn at random (a generator seeded by the seed);
- ``uncertainty``: ``select_articles`` on the current model's probabilities for the pool's units
  and its thresholds, with ``--diversity`` on tf-idf similarity of the article texts;
- ``committee``: the same, with the cross-validation fold models (fitted anyway for the
  thresholds) as an ensemble whose disagreement also counts.

After every round the model is scored on the real development set (``--real-dev``, third-party
text read at run time, never copied) and on the five real seed articles
(``data/seed_units.jsonl``) with ``pipeline.metrics.multilabel_metrics``: macro-F1 over the four
labels, exact label-set match, macro average precision.

**The model** is the project's tf-idf logistic regression (``pipeline.tfidf.TfidfLogit``, the
settings of ``configs/baseline.yaml``: C 4, word 1-2 grams), fitted on the training units' texts
as ``pipeline.train.fit_tfidf`` fits it. It is the only model of the project fast enough to
retrain hundreds of times on a 2-core CPU (a second per round); one round of the transformer takes
about ten minutes there. Whether the ranking of strategies carries over to the transformer is not
measured here. **Thresholds** are tuned per label as the project tunes them
(``pipeline.metrics.best_thresholds``), on out-of-fold probabilities of the training articles
from ``--cv-folds`` folds by article (a fold whose training side lacks a label's positives is
left out; a label with no out-of-fold positives keeps 0.5). The same thresholds score the dev sets
and drive the selection.

The pool's units are its gold units (in a real loop they would be the segmenter's units of
unlabelled articles), and an article's text for the diversity term is its units joined. Writes
``curves.json`` (every round of every seed and strategy, with the articles chosen),
``curves.png`` and ``table.md`` under ``--out``, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.data import doc_ids, label_matrix, load_units
from pipeline.metrics import best_thresholds, multilabel_metrics
from pipeline.schema import LABELS, atomic_write
from pipeline.select import select_articles
from pipeline.tfidf import TfidfLogit

ROOT = Path(__file__).resolve().parents[1]  # default paths are the repository's, wherever it runs from

STRATEGIES = ("random", "uncertainty", "committee")
MODEL_NOTE = ("model: tf-idf + logistic regression (pipeline.tfidf, C 4, 1-2 grams), the only model fast "
              "enough to retrain every round on this 2-core CPU (a transformer round takes ~10 min)")
KEPT = ("macro_f1", "exact_match", "macro_ap", "micro_f1", *(f"{label}_f1" for label in LABELS))


class Model:
    """One training set's fitted model, its CV-tuned thresholds and its fold models."""

    def __init__(self, units, C: float, ngram_max: int, folds: int, seed: int) -> None:
        texts, y = [u.text for u in units], label_matrix(units)
        self.full = TfidfLogit.fit(texts, y, C=C, ngram_max=ngram_max, seed=seed)
        docs = sorted(doc_ids(units))
        unit_doc = np.array([u.doc_id for u in units])
        oof = np.full(y.shape, np.nan)
        self.members: list[TfidfLogit] = []
        for k in range(min(folds, len(docs))):
            held = np.isin(unit_doc, docs[k::folds])
            if (y[~held].sum(axis=0) == 0).any():
                continue  # cannot fit a label with no positives; this fold sits out
            member = TfidfLogit.fit([t for t, h in zip(texts, held) if not h], y[~held],
                                    C=C, ngram_max=ngram_max, seed=seed)
            oof[held] = member.predict_proba([t for t, h in zip(texts, held) if h])
            self.members.append(member)
        scored = ~np.isnan(oof[:, 0])
        self.thresholds = (best_thresholds(y[scored], oof[scored]) if scored.any()
                           else np.full(len(LABELS), 0.5))

    def proba(self, texts: list[str]) -> np.ndarray:
        return self.full.predict_proba(texts)

    def member_proba(self, texts: list[str]) -> np.ndarray | None:
        return np.stack([m.predict_proba(texts) for m in self.members]) if len(self.members) > 1 else None


def score(model: Model, units, y: np.ndarray) -> dict[str, float]:
    m = multilabel_metrics(y, model.proba([u.text for u in units]), model.thresholds)
    return {key: round(m[key], 4) for key in KEPT}


def next_batch(strategy: str, model: Model, pool, chosen: set[str], batch: int, texts: dict[str, str],
               diversity: float, rng: np.random.Generator) -> list[str]:
    rest = [u for u in pool if u.doc_id not in chosen]
    rest_docs = doc_ids(rest)
    if strategy == "random":
        return [str(d) for d in rng.choice(sorted(rest_docs), size=min(batch, len(rest_docs)), replace=False)]
    rest_texts = [u.text for u in rest]
    members = model.member_proba(rest_texts) if strategy == "committee" else None
    picked = select_articles([u.doc_id for u in rest], model.proba(rest_texts), model.thresholds, batch,
                             texts=texts, member_probs=members, diversity=diversity)
    return [doc for doc, _ in picked]


def run_curve(strategy: str, seed: int, initial: list[str], args, pool, texts, evals) -> list[dict]:
    rng = np.random.default_rng([seed, 1])  # the random strategy's draws, apart from the initial set's
    chosen = list(initial)
    rounds = []
    for r in range(args.rounds + 1):
        train = [u for u in pool if u.doc_id in set(chosen)]  # pool order: same set, same model
        model = Model(train, args.C, args.ngram_max, args.cv_folds, seed)
        row = {"round": r, "articles": len(chosen), "units": len(train),
               "thresholds": [round(float(t), 3) for t in model.thresholds]}
        for name, (units, y) in evals.items():
            row[name] = score(model, units, y)
        if r < args.rounds and len(chosen) < len(texts):
            row["added"] = next_batch(strategy, model, pool, set(chosen), args.batch, texts,
                                      args.diversity, rng)
            chosen += row["added"]
        rounds.append(row)
        if "added" not in row:
            break
    return rounds


def summarise(curves: dict, strategies, evals) -> dict:
    """Per strategy and round: mean, min and max over seeds of each kept metric, and the articles
    and units trained on; and the paired difference from random seed by seed."""
    out = {}
    seeds = list(curves)
    n_rounds = min(len(curves[s][k]) for s in seeds for k in strategies)
    for k in strategies:
        rows = []
        for r in range(n_rounds):
            at = [curves[s][k][r] for s in seeds]
            row = {"round": r, "articles": at[0]["articles"],
                   "units": float(np.mean([a["units"] for a in at]))}
            for name in evals:
                for key in KEPT:
                    vals = np.array([a[name][key] for a in at])
                    row[f"{name}_{key}"] = {"mean": float(vals.mean()), "min": float(vals.min()),
                                            "max": float(vals.max()), "sd": float(vals.std())}
                    if k != "random":
                        base = np.array([curves[s]["random"][r][name][key] for s in seeds])
                        diff = vals - base
                        row[f"{name}_{key}_minus_random"] = {
                            "mean": float(diff.mean()), "min": float(diff.min()), "max": float(diff.max())}
            rows.append(row)
        out[k] = rows
    return out


def markdown(summary: dict, strategies, args) -> str:
    short = {"random": "rand", "uncertainty": "unc", "committee": "comm"}
    heads = [short.get(k, k) for k in strategies]
    lines = [
        f"{MODEL_NOTE}.",
        (f"{args.seeds} seeds; start {args.initial} random articles, +{args.batch} a round; "
         f"diversity {args.diversity}. Cells: mean over seeds; dev = the real dev set (macro-F1, exact "
         "label-set match), seeds = the five real seed articles (macro-F1)."),
        "",
        "| round | articles | units " + " / ".join(heads) + " | "
        + " | ".join(f"{what} {h}" for what in ("dev F1", "dev exact", "seeds F1") for h in heads) + " |",
        "|" + "---:|" * (2 + 1 + 3 * len(strategies)),
    ]
    for r in range(len(summary[strategies[0]])):
        rows = [summary[k][r] for k in strategies]
        cells = [str(r), str(rows[0]["articles"]), " / ".join(f"{row['units']:.0f}" for row in rows)]
        for key in ("real-dev_macro_f1", "real-dev_exact_match", "seeds_macro_f1"):
            cells += [f"{row[key]['mean']:.3f}" for row in rows]
        lines.append("| " + " | ".join(cells) + " |")
    others = [k for k in strategies if k != "random"]
    if others and "random" in strategies:
        lines += ["", ("Paired with random (same seed, same initial articles): real-dev macro-F1 difference, "
                       "mean [min, max] over seeds; and the spread of random itself (sd over seeds)."), "",
                  "| round | articles | " + " | ".join(f"{k} - random" for k in others) + " | random sd |",
                  "|" + "---:|" * (3 + len(others))]
        for r in range(len(summary["random"])):
            cells = [str(r), str(summary["random"][r]["articles"])]
            for k in others:
                d = summary[k][r]["real-dev_macro_f1_minus_random"]
                cells.append(f"{d['mean']:+.3f} [{d['min']:+.3f}, {d['max']:+.3f}]")
            cells.append(f"{summary['random'][r]['real-dev_macro_f1']['sd']:.3f}")
            lines.append("| " + " | ".join(cells) + " |")
        # one number per strategy: the mean paired gain over the rounds that differ (not the shared
        # start, not a final round where every strategy has the whole pool)
        lines.append("")
        middle = [r for r in range(1, len(summary["random"]))
                  if summary["random"][r]["articles"] < args.pool_size]
        for k in others:
            if not middle:
                break
            for name in ("real-dev", "seeds"):
                per_round = [summary[k][r][f"{name}_macro_f1_minus_random"]["mean"] for r in middle]
                lines.append(f"- {k} - random, {name} macro-F1 averaged over rounds "
                             f"{middle[0]}-{middle[-1]}: {np.mean(per_round):+.3f}")
    return "\n".join(lines) + "\n"


def plot(summary: dict, strategies, path: Path, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"random": "tab:grey", "uncertainty": "tab:blue", "committee": "tab:orange"}
    panels = (("real-dev_macro_f1", "articles", "real dev: macro-F1 by articles coded"),
              ("real-dev_macro_f1", "units", "real dev: macro-F1 by units coded"),
              ("seeds_macro_f1", "articles", "seed articles: macro-F1 by articles coded"))
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, (key, xkey, title) in zip(axes, panels):
        for k in strategies:
            rows = summary[k]
            x = np.array([row[xkey] for row in rows], dtype=float)
            mean = np.array([row[key]["mean"] for row in rows])
            ax.plot(x, mean, marker="o", ms=4, lw=2, color=colours.get(k), label=k)
            ax.fill_between(x, [row[key]["min"] for row in rows], [row[key]["max"] for row in rows],
                            color=colours.get(k), alpha=0.15, lw=0)
        ax.set_title(title)
        ax.set_xlabel("training articles" if xkey == "articles" else "training units (mean over seeds)")
        ax.set_ylabel("macro-F1")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(f"Choosing articles to annotate: mean and min-max over {args.seeds} seeds "
                 f"(tf-idf logistic model; start {args.initial}, +{args.batch} a round, "
                 f"diversity {args.diversity})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "selection-study")
    ap.add_argument("--pool", type=Path, default=ROOT / "data" / "synthetic" / "units.jsonl")
    ap.add_argument("--real-dev", type=Path,
                    default=ROOT / ".." / "shared" / "corpus" / "real-dev" / "units.jsonl")
    ap.add_argument("--seed-units", type=Path, default=ROOT / "data" / "seed_units.jsonl")
    ap.add_argument("--seeds", type=int, default=5, help="random seeds (initial set and random draws)")
    ap.add_argument("--rounds", type=int, default=10, help="rounds of adding a batch after the initial set")
    ap.add_argument("--batch", type=int, default=12, help="articles added per round")
    ap.add_argument("--initial", type=int, default=12, help="random articles to start from")
    ap.add_argument("--diversity", type=float, default=0.3, help="select_articles' diversity weight")
    ap.add_argument("--strategies", default=",".join(STRATEGIES), help=f"comma-separated, of {STRATEGIES}")
    ap.add_argument("--C", type=float, default=4.0, help="inverse regularisation (configs/baseline.yaml)")
    ap.add_argument("--ngram-max", type=int, default=2)
    ap.add_argument("--cv-folds", type=int, default=3,
                    help="folds by article for the thresholds and the committee")
    args = ap.parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if s]
    bad = [s for s in strategies if s not in STRATEGIES]
    if bad or not strategies:
        ap.error(f"unknown strategies {bad}; choose from {STRATEGIES}")
    if not 0.0 <= args.diversity <= 1.0:
        ap.error(f"--diversity must lie in [0, 1], got {args.diversity}")
    if min(args.seeds, args.batch, args.cv_folds - 1) < 1 or args.rounds < 0:
        ap.error("--seeds and --batch must be at least 1, --cv-folds at least 2, --rounds at least 0")
    inputs = ((args.pool, "--pool"), (args.real_dev, "--real-dev"), (args.seed_units, "--seed-units"))
    for path, what in inputs:
        if not path.is_file():
            ap.error(f"{what} {path}: no such file")

    pool = load_units([args.pool])
    texts: dict[str, str] = {}
    for u in pool:
        texts[u.doc_id] = f"{texts[u.doc_id]} {u.text}" if u.doc_id in texts else u.text
    args.pool_size = len(texts)
    if not 0 < args.initial < len(texts):
        ap.error(f"--initial must be between 1 and {len(texts) - 1} (the pool has {len(texts)} articles)")
    evals = {}
    for name, path in (("real-dev", args.real_dev), ("seeds", args.seed_units)):
        units = load_units([path])
        evals[name] = (units, label_matrix(units))

    print(MODEL_NOTE, file=sys.stderr)
    start = time.time()
    curves: dict[int, dict[str, list[dict]]] = {}
    for seed in range(args.seeds):
        draw = np.random.default_rng([seed, 0]).choice(sorted(texts), args.initial, replace=False)
        initial = [str(d) for d in draw]
        curves[seed] = {}
        for k in strategies:
            curves[seed][k] = run_curve(k, seed, initial, args, pool, texts, evals)
            last = curves[seed][k][-1]
            first = curves[seed][k][0]
            print(f"seed {seed} {k:<11} real-dev macro-F1 {first['real-dev']['macro_f1']:.3f} -> "
                  f"{last['real-dev']['macro_f1']:.3f} ({time.time() - start:.0f}s)", file=sys.stderr)

    summary = summarise(curves, strategies, evals)
    table = markdown(summary, strategies, args)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / "curves.json") as f:
        json.dump({"note": MODEL_NOTE,
                   "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                   "strategies": strategies, "seconds": round(time.time() - start, 1),
                   "summary": summary, "curves": {str(s): c for s, c in curves.items()}}, f, indent=1)
    with atomic_write(args.out / "table.md") as f:
        f.write(table)
    plot(summary, strategies, args.out / "curves.png", args)
    print(table)
    print(f"wrote {args.out / 'curves.json'}, {args.out / 'curves.png'}, {args.out / 'table.md'} "
          f"in {time.time() - start:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
