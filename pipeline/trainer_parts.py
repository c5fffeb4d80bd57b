"""The Hugging Face ``Trainer`` plumbing of ``train._fit_transformer``: its loss, its per-epoch
dev metrics, its callbacks and its arguments, each a small named piece instead of closures.

Imported only when a transformer is trained (it imports ``transformers`` and ``torch``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from transformers import TrainerCallback, TrainingArguments
from transformers.trainer_callback import ProgressCallback

from .config import TrainConfig
from .metrics import best_thresholds, multilabel_metrics
from .schema import LABELS
from .tracker import Tracker

log = logging.getLogger("pipeline.train")


class WeightedBCE:
    """Binary cross-entropy on sigmoid outputs, with a positive weight per label (rare labels weigh more)."""

    def __init__(self, pos_weight: np.ndarray) -> None:
        self.weight = torch.tensor(pos_weight, dtype=torch.float32)

    def __call__(self, outputs, labels, num_items_in_batch=None):
        logits = outputs.logits.float()
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels.to(logits.dtype), pos_weight=self.weight.to(logits.device)
        )


def epoch_metrics(pred) -> dict[str, float]:
    """The transformer alone on dev, epoch by epoch (the best epoch is kept on ``macro_f1_tuned``):
    named apart from the final ``dev_*`` metrics (tuned thresholds, blend), which MLflow would
    otherwise show as the latest step's value."""
    logits, y = pred.predictions, pred.label_ids
    probs = 1.0 / (1.0 + np.exp(-logits))
    tuned = multilabel_metrics(y, probs, best_thresholds(y, probs))
    at_half = multilabel_metrics(y, probs, 0.5)
    out = {"macro_f1_tuned": tuned["macro_f1"], "macro_f1_at_0.5": at_half["macro_f1"],
           "micro_f1_at_0.5": at_half["micro_f1"], "ece_transformer": at_half["ece"]}
    return out | {f"{label}_f1_tuned": tuned[f"{label}_f1"] for label in LABELS}


class LossBar(ProgressCallback):
    """The usual progress bar, with the running loss in it instead of printed log dicts."""

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kw):
        pass  # no second bar for the short dev pass

    def on_log(self, args, state, control, logs=None, **kw):
        if self.training_bar is not None and logs and "loss" in logs:
            self.training_bar.set_postfix(loss=f"{float(logs['loss']):.4f}", refresh=False)


class Report(TrainerCallback):
    """Per-epoch train and dev loss and dev metrics to the tracker, as step metrics, and to ``history``."""

    SHOWN = ("train_loss", "dev_loss", "dev_macro_f1_tuned", "dev_micro_f1_at_0.5")

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.losses: list[float] = []
        self.history: list[dict[str, float]] = []

    def on_log(self, args, state, control, logs=None, **kw):
        logs = logs or {}
        if "loss" in logs:
            self.losses.append(float(logs["loss"]))
            self.tracker.log_metrics({"train_loss_step": float(logs["loss"])}, step=state.global_step)

    def on_evaluate(self, args, state, control, metrics=None, **kw):
        epoch = int(round(state.epoch or 0))
        row = {"epoch": float(epoch)}
        if self.losses:
            row["train_loss"] = float(np.mean(self.losses))
            self.losses = []
        row |= {("dev_" + k.removeprefix("eval_")): float(v) for k, v in (metrics or {}).items()
                if isinstance(v, (int, float)) and not k.endswith(("_runtime", "_per_second", "epoch"))}
        self.history.append(row)
        self.tracker.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=epoch)
        log.info("epoch %d: %s", epoch, ", ".join(f"{k}={row[k]:.4f}" for k in self.SHOWN if k in row))


def training_arguments(tc: TrainConfig, ckpt_dir: Path, n_train: int) -> TrainingArguments:
    """One epoch per dev evaluation and checkpoint; the best dev epoch kept; CUDA and bf16 where
    the config and the machine allow."""
    use_cuda = torch.cuda.is_available() and tc.device in ("auto", "cuda")
    bf16 = tc.bf16 == "on" or (tc.bf16 == "auto" and use_cuda and torch.cuda.is_bf16_supported())
    steps_per_epoch = -(-n_train // tc.batch_size)
    return TrainingArguments(
        output_dir=str(ckpt_dir),
        num_train_epochs=tc.epochs,
        per_device_train_batch_size=tc.batch_size,
        per_device_eval_batch_size=tc.eval_batch_size,
        learning_rate=tc.learning_rate,
        weight_decay=tc.weight_decay,
        warmup_steps=int(tc.warmup_ratio * steps_per_epoch * tc.epochs),
        lr_scheduler_type="linear",
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1_tuned",
        greater_is_better=True,
        logging_steps=max(1, min(20, steps_per_epoch // 4)),
        logging_first_step=True,
        report_to=[],
        seed=tc.seed,
        data_seed=tc.seed,
        use_cpu=not use_cuda,
        bf16=bf16,
        dataloader_pin_memory=use_cuda,
        dataloader_num_workers=tc.dataloader_workers,
        disable_tqdm=False,
    )
