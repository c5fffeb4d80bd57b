"""Score one training recipe on both headlines, and ensembles of recipes, without the CLI's
one-model-at-a-time flow.

The two headlines of every recipe (docs/RESULTS.md):

1. cross-validation over the five real seed articles (one fold per article, the training corpus
   always on the training side), exactly as ``argmine cv`` runs it (``pipeline.cv``);
2. the real development set (``../shared/corpus/real-dev``): the recipe trained as
   the release configs train it, on ``data.train`` plus the seed articles, then scored with
   ``pipeline.evaluate`` (fp32), per label and as the exact label-set ratio, plus article stance.

Each of the six trainings is one *part*, so the parts can run in parallel (on a GPU, several
processes share it well):

    python scripts/recipe_study.py --config configs/default.yaml --real-dev ../shared/corpus/real-dev \\
        --out out/study/default                     # every part in turn, then the merge
    python scripts/recipe_study.py ... --part fold-3  # one part (fold-0 .. fold-4, realdev)
    python scripts/recipe_study.py --merge out/study/default --real-dev ../shared/corpus/real-dev
    python scripts/recipe_study.py --ensemble out/study/a out/study/b --out out/study/a+b --real-dev ...
    python scripts/recipe_study.py --log out/study/*/study.json   # one MLflow run per recipe

A part saves the final probabilities (after the tf-idf blend) of its dev and test units and its
thresholds. An ensemble averages its members' probabilities part by part and tunes thresholds on
the averaged dev probabilities, which is what an ensemble of the full models does; members must
share their dev articles (same ``data.split_seed``, any ``train.seed``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import load_config  # noqa: E402
from pipeline.cv import fold_split, summarise  # noqa: E402
from pipeline.data import article_folds, label_matrix, load_units, split_by_article  # noqa: E402
from pipeline.evaluate import evaluate_model  # noqa: E402
from pipeline.metrics import best_thresholds, multilabel_metrics  # noqa: E402
from pipeline.schema import LABELS, atomic_write, label_sets  # noqa: E402
from pipeline.stance import article_stance, read_stances, stance_accuracy  # noqa: E402
from pipeline.train import train_model  # noqa: E402

SEED_STANCE = ROOT / "data" / "seed_stance.tsv"
SHORT = {"pro-enforcement": "pro", "civil-liberties": "civ", "fiscal": "fis", "federalism": "fed"}


def _write(path: Path, obj) -> None:
    with atomic_write(path) as f:
        json.dump(obj, f)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _device() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({platform.processor() or 'x86_64'})"


def run_part(cfg, part: str, real_dev: Path, out: Path) -> dict:
    """Train one model (a seed fold, or the release-style model for the real dev set) and save
    the probabilities of its dev and test units."""
    train_units, seeds = load_units(cfg.data.train), load_units([cfg.data.eval])
    if part == "realdev":
        tr, dev = split_by_article([*train_units, *seeds], cfg.data.dev_fraction, cfg.dev_split_seed)
        test = load_units([real_dev / "units.jsonl"])
    else:
        held = article_folds(seeds)[int(part.removeprefix("fold-"))]
        tr, dev, test = fold_split(cfg, train_units, seeds, held)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        part_cfg = cfg.model_copy(deep=True)
        part_cfg.output_dir = Path(tmp) / "model"
        t0 = time.perf_counter()
        trained = train_model(part_cfg, tr, dev, resume=False)
        train_s = time.perf_counter() - t0
        ev = evaluate_model(trained.model_dir, test, device=cfg.train.device)
        speed = _label_speed(trained.model_dir, [u.text for u in train_units]) if part == "realdev" else {}
    row = {
        "part": part, "device": _device(), "train_seconds": train_s, "label_speed": speed,
        "n_train": len(tr), "blend": trained.manifest.tfidf_blend,
        "dev": {"unit_ids": [u.unit_id for u in dev], "doc_ids": [u.doc_id for u in dev],
                "y": label_matrix(dev).tolist(), "probs": trained.dev_probs.tolist()},
        "test": {"unit_ids": [u.unit_id for u in test], "doc_ids": [u.doc_id for u in test],
                 "y": label_matrix(test).tolist(), "probs": ev.probs.tolist()},
        "thresholds": trained.thresholds_array().tolist(),
    }
    _write(out / f"part-{part}.json", row)
    return row


def _label_speed(model_dir: Path, texts: list[str]) -> dict[str, float]:
    """Units/s of ``Labeller.predict_proba`` on the training texts (fp32 and the default precision),
    after a short warm-up: what the recipe costs to label with, beside what it costs to train."""
    from pipeline.predict import Labeller

    out = {}
    for precision in ("fp32", "auto"):
        labeller = Labeller(model_dir, precision=precision, batch_size=256 if _cuda() else 64)
        labeller.predict_proba(texts[:256])
        t0 = time.perf_counter()
        labeller.predict_proba(texts)
        out[f"units_per_s_{labeller.precision}"] = len(texts) / (time.perf_counter() - t0)
    return out


def _parts(folder: Path) -> dict[str, dict]:
    rows = {p.stem.removeprefix("part-"): json.loads(p.read_text()) for p in sorted(folder.glob("part-*.json"))}
    n_folds = json.loads((folder / "recipe.json").read_text())["folds"]
    expected = {f"fold-{i}" for i in range(n_folds)} | {"realdev"}
    if set(rows) != expected:
        raise SystemExit(f"{folder}: parts {sorted(expected - set(rows))} are missing")
    return rows


def _average(members: list[dict[str, dict]]) -> dict[str, dict]:
    """Members' probabilities averaged part by part, thresholds tuned again on the averaged dev."""
    out = {}
    for name, first in members[0].items():
        rows = [m[name] for m in members]
        for side in ("dev", "test"):
            if any(r[side]["unit_ids"] != first[side]["unit_ids"] for r in rows):
                raise SystemExit(f"part {name}: members differ in their {side} units (set data.split_seed alike)")
        avg = {side: {**first[side], "probs": np.mean([r[side]["probs"] for r in rows], axis=0).tolist()}
               for side in ("dev", "test")}
        thresholds = best_thresholds(np.asarray(first["dev"]["y"]), np.asarray(avg["dev"]["probs"]))
        out[name] = {**first, **avg, "thresholds": thresholds.tolist(),
                     "train_seconds": sum(r["train_seconds"] for r in rows), "label_speed": {},
                     "blend": [r["blend"] for r in rows]}
    return out


def _stances(part: dict) -> dict[str, str]:
    probs, thr = np.asarray(part["test"]["probs"]), np.asarray(part["thresholds"])
    by_doc: dict[str, list[list[str]]] = {}
    for doc, labels in zip(part["test"]["doc_ids"], label_sets(probs, thr)):
        by_doc.setdefault(doc, []).append(labels)
    return {doc: article_stance(sets) for doc, sets in by_doc.items()}


def summary(parts: dict[str, dict], real_dev: Path) -> dict:
    """Pooled and per-fold seed CV metrics, real-dev metrics and article stance on both."""
    folds = [parts[name] for name in sorted(parts, key=lambda n: (len(n), n)) if name.startswith("fold-")]
    y = np.concatenate([np.asarray(f["test"]["y"]) for f in folds])
    p = np.concatenate([np.asarray(f["test"]["probs"]) for f in folds])
    thr = np.concatenate([np.broadcast_to(f["thresholds"], np.shape(f["test"]["probs"])) for f in folds])
    fold_metrics = [multilabel_metrics(np.asarray(f["test"]["y"]), np.asarray(f["test"]["probs"]), f["thresholds"])
                    for f in folds]
    mean, std = summarise(fold_metrics)
    rd = parts["realdev"]
    seed_stance = {k: v for f in folds for k, v in _stances(f).items()}
    rd_stance = _stances(rd)
    return {
        "cv_pooled": multilabel_metrics(y, p, thr), "cv_mean": mean, "cv_std": std,
        "realdev": multilabel_metrics(np.asarray(rd["test"]["y"]), np.asarray(rd["test"]["probs"]), rd["thresholds"]),
        "realdev_dev": multilabel_metrics(np.asarray(rd["dev"]["y"]), np.asarray(rd["dev"]["probs"]), rd["thresholds"]),
        "stance_seed": stance_accuracy(seed_stance, read_stances(SEED_STANCE)),
        "stance_realdev": stance_accuracy(rd_stance, read_stances(real_dev / "articles.tsv")),
        "stance_realdev_predicted": rd_stance,
        "train_seconds": {n: r["train_seconds"] for n, r in parts.items()},
        "label_speed": rd.get("label_speed", {}), "device": rd.get("device", ""),
        "blend": {n: r["blend"] for n, r in parts.items()},
    }


def _print(name: str, s: dict) -> None:
    print(f"\n{name}  ({s['device']})")
    print(f"{'':22}" + "".join(f"{SHORT[lab]:>7}" for lab in LABELS) + "  macro  exact")
    for key, title in (("cv_pooled", "seed CV (pooled)"), ("realdev", "real dev")):
        m = s[key]
        print(f"{title:22}" + "".join(f"{m[f'{lab}_f1']:7.3f}" for lab in LABELS)
              + f"  {m['macro_f1']:.3f}  {m['exact_match']:.3f}")
    print(f"seed CV fold mean {s['cv_mean']['macro_f1']:.3f} ± {s['cv_std']['macro_f1']:.3f}; "
          f"stance one-sided right: seeds {s['stance_seed']['one_sided_right_n']:.0f}/"
          f"{s['stance_seed']['n_one_sided']:.0f}, real dev {s['stance_realdev']['one_sided_right_n']:.0f}/"
          f"{s['stance_realdev']['n_one_sided']:.0f} (wrong sign {s['stance_realdev']['wrong_sign_n']:.0f})")


def merge(folder: Path, real_dev: Path, parts: dict[str, dict] | None = None, name: str | None = None,
          meta: dict | None = None) -> dict:
    parts = parts or _parts(folder)
    meta = meta or json.loads((folder / "recipe.json").read_text())
    s = {**meta, **summary(parts, real_dev)}
    _write(folder / "study.json", s)
    _write(folder / "parts.json", parts)  # the probabilities, for ensembles
    _print(name or meta["name"], s)
    return s


def log(study_files: list[Path]) -> None:
    """One MLflow run per recipe (experiment ``argmine-recipes``), its figures as metrics."""
    from pipeline.config import TrackingConfig
    from pipeline.tracking import open_tracker

    for path in study_files:
        s = json.loads(path.read_text())
        tags = {"recipe": s["name"], "device": s["device"], "study_file": str(path)}
        with open_tracker(TrackingConfig(experiment="argmine-recipes"), run_name=f"study {s['name']}",
                          command="recipe_study", tags=tags, root=ROOT) as tracker:
            tracker.log_params({k: str(v)[:250] for k, v in s.get("params", {}).items()})
            metrics = {}
            for prefix in ("cv_pooled", "cv_mean", "cv_std", "realdev", "stance_seed", "stance_realdev"):
                metrics |= {f"{prefix}_{k}": float(v) for k, v in s[prefix].items()
                            if isinstance(v, (int, float)) and np.isfinite(v)}
            metrics |= {f"train_seconds_{k}": v for k, v in s["train_seconds"].items()}
            metrics |= {f"label_{k}": v for k, v in s["label_speed"].items()}
            tracker.log_metrics(metrics)
            tracker.log_artifact(path)
        print(f"logged {s['name']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="section.key=value")
    ap.add_argument("--name", help="recipe name (default: the config's name and overrides)")
    ap.add_argument("--real-dev", type=Path, default=ROOT.parent / "shared" / "corpus" / "real-dev")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--part", help="fold-0 .. fold-N (one per data.eval article) or realdev; default: all, then merge")
    ap.add_argument("--merge", type=Path, help="a study folder whose parts are done")
    ap.add_argument("--ensemble", type=Path, nargs="+", help="study folders to average")
    ap.add_argument("--log", type=Path, nargs="+", help="study.json files to record in MLflow")
    args = ap.parse_args()
    if args.log:
        log(args.log)
        return 0
    if args.merge:
        merge(args.merge, args.real_dev)
        return 0
    if args.ensemble:
        members = [json.loads((d / "parts.json").read_text()) for d in args.ensemble]
        names = [json.loads((d / "study.json").read_text())["name"] for d in args.ensemble]
        args.out.mkdir(parents=True, exist_ok=True)
        meta = {"name": args.name or " + ".join(names), "members": names, "params": {"ensemble": ",".join(names)}}
        merge(args.out, args.real_dev, _average(members), meta=meta)
        return 0
    from pipeline.cli import _parse_overrides

    if not args.config or not args.out:
        ap.error("--config and --out are needed to run a recipe (or use --merge, --ensemble or --log)")
    for name in ("units.jsonl", "articles.tsv"):  # say so now, not after five fold trainings
        if not (args.real_dev / name).is_file():
            ap.error(f"{args.real_dev / name} is missing: --real-dev names the real development set's folder")
    cfg = load_config(args.config, _parse_overrides(args.overrides))
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or " ".join([cfg.name, *args.overrides])
    n_folds = len(article_folds(load_units([cfg.data.eval])))
    _write(args.out / "recipe.json", {"name": name, "config": str(args.config), "overrides": args.overrides,
                                      "params": cfg.flat(), "folds": n_folds})
    for part in [args.part] if args.part else [*(f"fold-{i}" for i in range(n_folds)), "realdev"]:
        row = run_part(cfg, part, args.real_dev, args.out)
        print(f"{name}: {part} trained in {row['train_seconds']:.0f} s", flush=True)
    if not args.part:
        merge(args.out, args.real_dev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
