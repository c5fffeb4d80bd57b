"""The training flow in one place: what ``argmine train`` and ``argmine cv`` do, as functions.

``train(cfg, tracker)`` reads the data, applies the split policy, logs the datasets, trains and
calibrates the model (``pipeline.train``), writes its run report and model card into the model
directory *before* it is installed (a crash never leaves a model without them), scores it on the
held-out file, and registers it through the tracker. ``cross_validate_run`` does the same for
cross-validation and writes its metrics. Both return values; nothing here prints, parses options
or imports a tracking library: the CLI, the demo and scripts call these with a tracker of their
choosing (the do-nothing ``Tracker`` by default), so a run from Python gets the same report.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .card import card_counts, write_card
from .config import Config
from .cv import CVResult, cross_validate
from .data import digest, load_units, split_by_article
from .errors import ConfigError
from .evaluate import Evaluation, evaluate_model, score
from .schema import Unit, atomic_write, nan_to_none, write_units
from .tracker import Tracker
from .train import TrainResult, train_model

log = logging.getLogger(__name__)
RUN_DIR = "run"  # the training report inside a model directory


@dataclass
class Split:
    train: list[Unit]
    dev: list[Unit]
    held_out: list[Unit]  # scored after training, never trained or tuned on
    note: str = ""


@dataclass
class TrainReport:
    model_dir: Path
    result: TrainResult
    split: Split
    dev: Evaluation
    held_out: Evaluation | None = None
    registered: dict = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        """``dev_*`` and ``eval_*`` metrics, as logged and as the champion is judged on."""
        out = {f"dev_{k}": v for k, v in self.result.dev_metrics.items()}
        if self.held_out is not None:
            out |= {f"eval_{k}": v for k, v in self.held_out.metrics.items()}
        return out


def split_units(cfg: Config) -> Split:
    """The split policy: dev articles from the training files (``data.dev_fraction``, seeded by
    ``data.split_seed`` or ``train.seed``), or with ``data.dev_from: eval`` the eval file as dev
    (which then calibrates the model instead of scoring it)."""
    units = load_units(cfg.data.train)
    held_out = load_units([cfg.data.eval]) if cfg.data.eval else []
    overlap = {u.doc_id for u in held_out} & {u.doc_id for u in units}
    if overlap:
        raise ConfigError(f"{cfg.source}: data.eval shares articles with data.train: {sorted(overlap)[:5]}")
    if cfg.data.dev_from == "eval":
        return Split(units, held_out, [], note=f"data.dev_from is eval: {cfg.data.eval} is the dev set, not "
                                               "scored; held-out figures come from `argmine cv`")
    tr, dev = split_by_article(units, cfg.data.dev_fraction, cfg.dev_split_seed)
    return Split(tr, dev, held_out)


def log_evaluation(tracker: Tracker, ev: Evaluation, out_dir: Path, prefix: str) -> None:
    """Metrics JSON, predictions, PR curves and the label confusion plot, as files and artifacts."""
    from .plots import label_confusion, precision_recall_curves

    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_dir / f"{prefix}_metrics.json") as f:
        json.dump(nan_to_none(ev.metrics), f, indent=2)
    write_units(out_dir / f"{prefix}_predictions.jsonl", ev.predictions())
    pred = (ev.probs >= np.broadcast_to(ev.thresholds, ev.probs.shape)).astype(int)
    precision_recall_curves(ev.y_true, ev.probs, ev.thresholds, out_dir / f"{prefix}_pr_curves.png")
    label_confusion(ev.y_true, pred, out_dir / f"{prefix}_label_confusion.png")
    tracker.log_metrics({f"{prefix}_{k}": v for k, v in ev.metrics.items()})
    for name in ("metrics.json", "predictions.jsonl", "pr_curves.png", "label_confusion.png"):
        tracker.log_artifact(out_dir / f"{prefix}_{name}", artifact_path=prefix)


def train(cfg: Config, tracker: Tracker | None = None, *, resume: bool = True, register: bool = True,
          split: Split | None = None) -> TrainReport:
    """Train, report, evaluate and register one model from a config (``split``: the config's
    ``split_units``, when the caller already made it)."""
    import yaml

    tracker = tracker or Tracker()
    split = split or split_units(cfg)
    data_digest = digest(cfg.data.train)
    tracker.log_params(cfg.flat())
    tracker.log_dataset(cfg.data.train, split.train, "train", "training")
    tracker.log_dataset([cfg.data.eval] if cfg.data.dev_from == "eval" else cfg.data.train, split.dev, "dev",
                        "validation")
    if split.held_out:
        tracker.log_dataset([cfg.data.eval], split.held_out, "eval", "evaluation")
    scored: dict[str, Evaluation] = {}

    def report(staging: Path, result: TrainResult) -> None:
        """Written into the model directory before it is installed."""
        run_dir = staging / RUN_DIR
        run_dir.mkdir(exist_ok=True)
        with atomic_write(run_dir / "config.resolved.yaml") as f:
            yaml.safe_dump(cfg.model_dump(mode="json"), f, sort_keys=False)
        tracker.log_artifact(run_dir / "config.resolved.yaml")
        scored["dev"] = score(split.dev, result.dev_probs, result.thresholds_array())
        log_evaluation(tracker, scored["dev"], run_dir, "dev")
        if split.held_out:
            scored["eval"] = evaluate_model(staging, split.held_out, device=cfg.train.device)
            log_evaluation(tracker, scored["eval"], run_dir, "eval")
        card = write_card(staging, result.manifest, cfg.name, **card_counts(split.train, split.dev),
                          held_out=scored["eval"].metrics if "eval" in scored else None,
                          held_out_name=cfg.data.eval.name if cfg.data.eval else "")
        tracker.log_artifact(card)

    result = train_model(cfg, split.train, split.dev, tracker=tracker, data_digest=data_digest, resume=resume,
                         before_install=report)
    out = TrainReport(result.model_dir, result, split, scored["dev"], scored.get("eval"))
    if register:
        out.registered = tracker.log_model(result.model_dir, cfg.tracking, out.metrics)
    return out


def cross_validate_run(cfg: Config, out: Path, tracker: Tracker | None = None, *, folds: int | None = None,
                       keep_models: bool = False, ensemble: Path | None = None) -> CVResult:
    """Cross-validation by article over ``data.eval`` (``pipeline.cv``), its metrics written to
    ``out/cv_metrics.json`` and the pooled predictions and plots beside it. With ``ensemble``, the
    fold models are also averaged into one model folder there (``pipeline.ensemble``, the mean of
    their thresholds: each fold tuned on its own dev articles), logged as the run's model: a
    bagged model of the recipe, every member trained on the corpus and all but one fold of the
    ``data.eval`` articles, whose members' quality is what the pooled figures estimate."""
    from .ensemble import build_ensemble, check_ensemble_out

    tracker = tracker or Tracker()
    if not cfg.data.eval:
        raise ConfigError(f"{cfg.source}: cross-validation needs data.eval (the articles to fold over)")
    if ensemble is not None:  # before hours of training, not after
        if Path(ensemble).resolve().is_relative_to(Path(out).resolve()):
            raise ConfigError(f"{ensemble}: the ensemble folder cannot be inside the cv output folder {out}")
        check_ensemble_out(ensemble)
    train_units, eval_units = load_units(cfg.data.train), load_units([cfg.data.eval])
    tracker.log_params(cfg.flat() | {"cv.folds": folds or "per-article"})
    result = cross_validate(cfg, eval_units, train_units, k=folds, work_dir=Path(out) / "folds", tracker=tracker,
                            data_digest=digest([*cfg.data.train, cfg.data.eval]),
                            keep_models=keep_models or ensemble is not None)
    log_evaluation(tracker, result.pooled, Path(out), "cv_pooled")
    tracker.log_metrics({f"cv_mean_{k}": v for k, v in result.mean.items()})
    tracker.log_metrics({f"cv_std_{k}": v for k, v in result.std.items()})
    with atomic_write(Path(out) / "cv_metrics.json") as f:
        json.dump({"pooled": result.pooled.metrics, "mean": result.mean, "std": result.std, "folds": result.folds,
                   "fold_docs": result.fold_docs}, f, indent=2)
    tracker.log_artifact(Path(out) / "cv_metrics.json")
    if ensemble is not None:  # last: the cross-validation's figures are written whatever happens here
        fold_dirs = [Path(out) / "folds" / f"fold-{i}" for i in range(len(result.folds))]
        build_ensemble(fold_dirs, ensemble, device=cfg.train.device, thresholds="mean")
        if not keep_models:
            for d in fold_dirs:
                shutil.rmtree(d, ignore_errors=True)
        tracker.set_tags({"ensemble": str(ensemble)})
        tracker.log_model(ensemble, cfg.tracking.model_copy(update={"registered_model": None}), {})
    return result


def tags_for(cfg: Config, paths: Sequence[Path]) -> dict[str, str]:
    """The tags every run of a config carries: data digest, encoder, model kind."""
    return {"data_digest": digest(paths), "model_kind": cfg.model.kind,
            "encoder": cfg.model.encoder if cfg.model.kind == "transformer" else "tfidf"}
