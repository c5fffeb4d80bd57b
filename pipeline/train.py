"""Train a unit classifier: a fine-tuned transformer, or the tf-idf baseline.

Both produce the same self-describing model directory (see ``modeling.py``) with per-label
thresholds chosen on the dev articles, so ``evaluate`` and ``label`` treat them alike.

The transformer is fine-tuned with the Hugging Face ``Trainer`` and a binary cross-entropy loss
on sigmoid outputs, with per-label positive weights against label imbalance. It checkpoints
every epoch into ``<output_dir>.checkpoints/`` and resumes from the last checkpoint when run
again; the best epoch on dev (macro-F1 at dev-tuned thresholds) is kept. The final directory is
built beside the old one and swapped in only when complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import Config
from .data import encoded_rows, label_matrix
from .errors import ConfigError
from .metrics import best_thresholds, multilabel_metrics
from .card import add_to_hf_config, card_counts, write_card
from .modeling import TFIDF_BLEND, TFIDF_MODEL, Manifest, library_versions, mix, resolve_encoder
from .tfidf import TfidfLogit
from .schema import LABELS, Unit, atomic_write, default_mode
from .tracker import Tracker

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    model_dir: Path
    manifest: Manifest
    dev_units: list[Unit]
    dev_probs: np.ndarray
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def dev_metrics(self) -> dict[str, float]:
        return self.manifest.dev_metrics

    def thresholds_array(self) -> np.ndarray:
        return np.array(self.manifest.threshold_list(), dtype=np.float32)


def pos_weights(y: np.ndarray, cap: float) -> np.ndarray:
    """neg/pos per label, clipped to [1, cap]: rare labels weigh more, none weighs less than 1."""
    pos = y.sum(axis=0)
    neg = len(y) - pos
    return np.clip(neg / np.maximum(pos, 1.0), 1.0, cap).astype(np.float32)


def _install(staging: Path, out_dir: Path) -> None:
    """Move a finished model directory into place; the old one goes only once the new one is there.

    Its files and folders get the modes the user's umask gives (libraries that write through
    temporary files, safetensors among them, leave them private)."""
    file_mode, dir_mode = default_mode(0o666), default_mode(0o777)
    for path in staging.rglob("*"):
        path.chmod(dir_mode if path.is_dir() else file_mode)
    old = out_dir.with_name(out_dir.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    if old.exists():
        shutil.rmtree(old)


def train_model(
    cfg: Config,
    train_units: Sequence[Unit],
    dev_units: Sequence[Unit],
    *,
    tracker: Tracker | None = None,
    data_digest: str = "",
    resume: bool = True,
    callbacks: Sequence = (),
    before_install: Callable[[Path, TrainResult], None] | None = None,
) -> TrainResult:
    """Train on ``train_units``, choose epochs and thresholds on ``dev_units``, save the model.

    ``before_install(staging_dir, result)`` runs on the finished model directory before it is moved
    into place (``pipeline.run`` writes the run report and scores the held-out file there), so an
    installed model always has its report."""
    tracker = tracker or Tracker()
    if not train_units or not dev_units:
        raise ConfigError("training needs units on both the training and the dev side")
    if cfg.model.kind == "transformer" and cfg.train.device == "cuda":
        import torch

        if not torch.cuda.is_available():  # say so now, not after the whole training at evaluation
            raise ConfigError(f"{cfg.source or cfg.name}: train.device is cuda, but torch sees no CUDA device; "
                              "train with --set train.device=auto (the CPU) or on a GPU machine")
    out_dir = Path(cfg.output_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(default_mode(0o777))  # mkdtemp makes 0700; the model folder is as readable as any other
    ckpt_dir = None
    try:
        if cfg.model.kind == "tfidf":
            probs, history = fit_tfidf(cfg, train_units, dev_units, staging)
        else:
            probs, history, ckpt_dir = _fit_transformer(
                cfg, train_units, dev_units, staging, tracker, data_digest, resume, callbacks
            )
        y_dev = label_matrix(dev_units)
        tfidf_probs = None
        if cfg.model.kind == "transformer" and cfg.model.tfidf_blend != 0.0:
            tfidf_probs = _blend_candidate(cfg, train_units, dev_units, staging)
        cal = calibrate(cfg.model.tfidf_blend, y_dev, probs, tfidf_probs)
        if tfidf_probs is not None:
            _report_blend(cal, tracker)
            if not any(cal.weights().values()):  # the transformer alone: no tf-idf model to ship
                for suffix in (".json", ".safetensors"):
                    (staging / f"{TFIDF_BLEND}{suffix}").unlink()
        probs, blend, thresholds = cal.probs, cal.weight, cal.thresholds
        manifest = Manifest(
            kind=cfg.model.kind,
            labels=list(LABELS),
            thresholds={label: float(t) for label, t in zip(LABELS, thresholds)},
            max_length=cfg.model.max_length,
            encoder=cfg.model.encoder if cfg.model.kind == "transformer" else "tfidf",
            data_digest=data_digest,
            config=cfg.model_dump(mode="json"),
            dev_metrics=multilabel_metrics(y_dev, probs, thresholds),
            tfidf_blend=blend,
            versions=library_versions(),
        )
        manifest.save(staging)
        if cfg.model.kind == "transformer":
            add_to_hf_config(staging, manifest)
        write_card(staging, manifest, cfg.name, **card_counts(train_units, dev_units))
        if before_install is not None:
            before_install(staging, TrainResult(staging, manifest, list(dev_units), probs, history))
        _install(staging, out_dir)
        if ckpt_dir is not None:  # only now: a failure before this resumes from the last epoch
            shutil.rmtree(ckpt_dir, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return TrainResult(out_dir, manifest, list(dev_units), probs, history)


# -- tf-idf baseline -------------------------------------------------------------------------------


def fit_tfidf(cfg: Config, train_units, dev_units, out: Path, name: str = TFIDF_MODEL):
    """Fit the tf-idf model on ``train_units``, save it as ``out/<name>.*``; its dev probabilities."""
    missing = _labels_without_positives(train_units)
    if missing:
        raise ConfigError(f"the training split has no positives for {missing}")
    model = TfidfLogit.fit([u.text for u in train_units], label_matrix(train_units),
                           C=cfg.train.C, ngram_max=cfg.train.ngram_max, seed=cfg.train.seed)
    model.save(out, name)
    return model.predict_proba([u.text for u in dev_units]), []


def _labels_without_positives(units) -> list[str]:
    counts = label_matrix(units).sum(axis=0)
    return [label for label, n in zip(LABELS, counts) if n == 0]


BLEND_GRID = (0.0, 0.25, 0.5, 0.75)
PER_LABEL_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def choose_blend(
    setting: float | str, y_dev: np.ndarray, probs: np.ndarray, tfidf_probs: np.ndarray
) -> tuple[float | dict[str, float], dict[str, float]]:
    """The tf-idf weight for a ``model.tfidf_blend`` setting, chosen on dev, and the dev score of
    each candidate (F1 at dev-tuned thresholds; ties go to the smaller weight).

    ``auto``: one weight from ``BLEND_GRID`` by dev macro-F1, scores keyed ``macro_f1_blend_{w}``.
    ``per-label``: for each label, the weight from ``PER_LABEL_GRID`` with the best dev F1 for that
    label, scores keyed ``{label}_f1_blend_{w}``. A number is used as it is.
    """
    if not isinstance(setting, str):
        return float(setting), {}
    grid = BLEND_GRID if setting == "auto" else PER_LABEL_GRID
    metrics = dev_metrics_by_weight(y_dev, grid, lambda w: mix(probs, tfidf_probs, w))
    if setting == "auto":
        scores = {f"macro_f1_blend_{w}": m["macro_f1"] for w, m in metrics.items()}
        return best_weight(metrics, "macro_f1"), scores
    scores = {f"{label}_f1_blend_{w}": m[f"{label}_f1"] for w, m in metrics.items() for label in LABELS}
    return {label: best_weight(metrics, f"{label}_f1") for label in LABELS}, scores


def dev_metrics_by_weight(y_dev: np.ndarray, grid, make) -> dict[float, dict[str, float]]:
    """For each candidate weight, the dev metrics of ``make(weight)`` at dev-tuned thresholds."""
    metrics = {}
    for w in grid:
        probs = make(w)
        metrics[w] = multilabel_metrics(y_dev, probs, best_thresholds(y_dev, probs))
    return metrics


def best_weight(metrics: dict[float, dict[str, float]], key: str) -> float:
    """The weight with the best ``key``; ties (to 6 decimals) go to the smaller weight."""
    return max(metrics, key=lambda w: (round(metrics[w][key], 6), -w))


@dataclass
class Calibration:
    """What is chosen on dev after a model is fitted: the tf-idf weight(s) and per-label thresholds."""

    weight: float | dict[str, float]  # one weight, or one per label; 0 is the transformer alone
    probs: np.ndarray  # dev probabilities after the blend
    thresholds: np.ndarray  # per label, F1-maximising on ``probs``
    scores: dict[str, float] = field(default_factory=dict)  # each candidate weight's dev score

    def weights(self) -> dict[str, float]:
        return self.weight if isinstance(self.weight, dict) else dict.fromkeys(LABELS, float(self.weight))

    def apply(self, probs: np.ndarray, tfidf_probs: np.ndarray | None) -> np.ndarray:
        """The same blend on other units' probabilities (test units, say)."""
        return probs if tfidf_probs is None else mix(probs, tfidf_probs, self.weight)


def calibrate(setting: float | str, y_dev: np.ndarray, probs: np.ndarray,
              tfidf_probs: np.ndarray | None = None) -> Calibration:
    """Choose the blend for a ``model.tfidf_blend`` setting, then thresholds, on dev: the sequence
    ``train_model`` runs after fitting, and what ``scripts/blend_study.py`` reruns on kept models.
    Without tf-idf probabilities the transformer stands alone (weight 0)."""
    if tfidf_probs is None:
        return Calibration(0.0, probs, best_thresholds(y_dev, probs))
    weight, scores = choose_blend(setting, y_dev, probs, tfidf_probs)
    if not any((weight if isinstance(weight, dict) else {"w": weight}).values()):
        weight = 0.0
    mixed = mix(probs, tfidf_probs, weight) if weight != 0.0 else probs
    return Calibration(weight, mixed, best_thresholds(y_dev, mixed), scores)


def _blend_candidate(cfg: Config, train_units, dev_units, out: Path) -> np.ndarray | None:
    """Fit the tf-idf model to blend in (saved beside the transformer); its dev probabilities, or
    None when a label has no training positives (a warning says so)."""
    missing = _labels_without_positives(train_units)
    if missing:
        log.warning("no tf-idf blend: the training split has no positives for %s", missing)
        return None
    return fit_tfidf(cfg, train_units, dev_units, out, TFIDF_BLEND)[0]


def _report_blend(cal: Calibration, tracker: Tracker) -> None:
    weight, scores = cal.weight, cal.scores
    single = {} if isinstance(weight, dict) else {"tfidf_blend": weight}
    tracker.log_metrics(single | {f"tfidf_blend_{label}": w for label, w in cal.weights().items()}
                        | {f"dev_{key}": v for key, v in scores.items()})
    if isinstance(weight, dict):  # every candidate's score is in MLflow; the log says what was chosen
        log.info("tf-idf blend weight per label (dev F1 at it, and with the transformer alone): %s",
                 ", ".join(f"{label} {w:g} ({scores[f'{label}_f1_blend_{w}']:.4f}, "
                           f"{scores[f'{label}_f1_blend_0.0']:.4f})" for label, w in weight.items()))
    elif scores:
        log.info("tf-idf blend weight %g (dev macro-F1 by weight: %s)", weight,
                 ", ".join(f"{w:g}: {scores[f'macro_f1_blend_{w}']:.4f}" for w in BLEND_GRID))
    else:
        log.info("tf-idf blend weight %g (fixed by the config)", weight)


# -- transformer -----------------------------------------------------------------------------------


def _run_key(cfg: Config, data_digest: str, train_units, dev_units) -> str:
    """What a checkpoint must match to be resumed: the training-relevant config, the data, and the
    exact split (which units train and which are dev, with their labels), so a changed dev share,
    dev source or evaluation file never resumes a model that trained on today's dev articles."""
    relevant = {k: v for k, v in cfg.model_dump(mode="json").items() if k in ("model", "train", "data")}
    split = [[(u.unit_id, u.text, u.labels) for u in part] for part in (train_units, dev_units)]
    return hashlib.sha256(json.dumps([relevant, data_digest, split], sort_keys=True).encode()).hexdigest()


def _checkpoint_dir(cfg: Config, key: str, resume: bool) -> tuple[Path, str | None]:
    from transformers.trainer_utils import get_last_checkpoint

    ckpt_dir = Path(str(cfg.output_dir) + ".checkpoints")
    key_file = ckpt_dir / "run-key.txt"
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    if last and not resume:
        shutil.rmtree(ckpt_dir)
        last = None
    elif last and (not key_file.is_file() or key_file.read_text().strip() != key):
        raise ConfigError(
            f"{ckpt_dir} holds checkpoints of a different config, data or dev split (or of unknown origin); "
            "delete that folder or train with --no-resume"
        )
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(key_file) as f:
        f.write(key)
    return ckpt_dir, last


def _fit_transformer(cfg, train_units, dev_units, out: Path, tracker: Tracker, data_digest, resume, callbacks):
    """Fine-tune the encoder with a 4-way sigmoid head; the dev probabilities (fp32), the per-epoch
    history and the checkpoint folder (removed by ``train_model`` once the model is installed)."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        set_seed,
    )
    from transformers.trainer_callback import ProgressCallback

    from .trainer_parts import LossBar, Report, WeightedBCE, epoch_metrics, training_arguments

    tc = cfg.train
    set_seed(tc.seed)
    encoder = resolve_encoder(cfg.model.encoder)
    try:
        tokenizer = AutoTokenizer.from_pretrained(encoder)
        model = AutoModelForSequenceClassification.from_pretrained(
            encoder,
            num_labels=len(LABELS),
            problem_type="multi_label_classification",
            id2label=dict(enumerate(LABELS)),
            label2id={label: i for i, label in enumerate(LABELS)},
            ignore_mismatched_sizes=True,  # an encoder saved with another head gets a fresh one
        )
    except OSError as err:
        raise ConfigError(f"{cfg.source}: cannot load encoder {cfg.model.encoder!r} ({err})") from None

    def tokenize(texts, contexts):
        return tokenizer(texts, contexts, truncation=True, max_length=cfg.model.max_length)

    train_ds = encoded_rows(train_units, tokenize, cfg.model.context)
    dev_ds = encoded_rows(dev_units, tokenize, cfg.model.context)
    y_train = label_matrix(train_units)
    weights = pos_weights(y_train, tc.max_pos_weight) if tc.pos_weight == "auto" else np.ones(len(LABELS))
    ckpt_dir, last = _checkpoint_dir(cfg, _run_key(cfg, data_digest, train_units, dev_units), resume)
    report = Report(tracker)
    trainer = Trainer(
        model=model,
        args=training_arguments(tc, ckpt_dir, len(train_ds)),
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_loss_func=WeightedBCE(weights),
        compute_metrics=epoch_metrics,
        callbacks=[report, *callbacks],
    )
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(LossBar())
    if last:
        log.warning("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    probs = _fp32_probs(trainer.model, dev_ds, DataCollatorWithPadding(tokenizer), tc.eval_batch_size)
    trainer.save_model(str(out))
    (out / "training_args.bin").unlink(missing_ok=True)  # a pickle, and nothing a user of the model needs
    return probs, report.history, ckpt_dir


def _fp32_probs(model, rows: list[dict], collator, batch_size: int) -> np.ndarray:
    """Dev probabilities in fp32, without autocast, whatever precision training ran in: thresholds and
    blend weights are tuned on them, and ``evaluate`` scores in fp32 too."""
    import torch

    model = model.float().eval()
    device = next(model.parameters()).device
    out = []
    with torch.inference_mode(), torch.autocast(device.type, enabled=False):  # no mixed precision left on
        for i in range(0, len(rows), batch_size):
            batch = collator([{k: v for k, v in row.items() if k != "labels"} for row in rows[i : i + batch_size]])
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits.float()
            out.append(torch.sigmoid(logits).cpu().numpy())
    return np.concatenate(out).astype(np.float32)
