"""Training resumes from its last checkpoint after an interruption."""

from __future__ import annotations

import pytest
from transformers import TrainerCallback

from conftest import ROOT
from pipeline.config import load_config
from pipeline.data import load_units, split_by_article
from pipeline.train import train_model

pytestmark = pytest.mark.integration


class Crash(TrainerCallback):
    """Interrupts training right after the first checkpoint is written."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt


class Record(TrainerCallback):
    def __init__(self):
        self.first_step = None
        self.last_step = None

    def on_step_end(self, args, state, control, **kwargs):
        self.first_step = self.first_step or state.global_step
        self.last_step = state.global_step


def test_interrupted_training_resumes_from_the_last_checkpoint(tmp_path, tiny_encoder, gold_split):
    cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder), "train.epochs": 3,
                                                    "output_dir": str(tmp_path / "model")})
    tr, dev = split_by_article(load_units([gold_split["train"]]), 0.34, 0)
    with pytest.raises(KeyboardInterrupt):
        train_model(cfg, tr, dev, data_digest="d1", callbacks=[Crash()])
    checkpoints = list((tmp_path / "model.checkpoints").glob("checkpoint-*"))
    assert len(checkpoints) == 1
    assert not (tmp_path / "model").exists()  # no half-written model directory
    steps_per_epoch = int(checkpoints[0].name.split("-")[1])

    # Other data: the checkpoint must not be silently resumed.
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="different config, data or dev split"):
        train_model(cfg, tr, dev, data_digest="d2")
    # The same data split another way: a dev article the checkpoint trained on must not pick its epoch.
    moved = [u for u in tr if u.doc_id == tr[0].doc_id]
    with pytest.raises(ConfigError, match="different config, data or dev split"):
        train_model(cfg, [u for u in tr if u not in moved], [*dev, *moved], data_digest="d1")

    record = Record()
    result = train_model(cfg, tr, dev, data_digest="d1", callbacks=[record])
    assert record.first_step == steps_per_epoch + 1  # picked up after epoch 1, not from scratch
    assert record.last_step == 3 * steps_per_epoch
    assert (result.model_dir / "model.safetensors").is_file()
    assert not (tmp_path / "model.checkpoints").exists()


def test_a_failure_after_the_last_epoch_keeps_the_checkpoints_and_the_rerun_finishes(tmp_path, tiny_encoder,
                                                                                       gold_split):
    """Reporting, held-out scoring or an MLflow upload can fail after training: the model is not lost."""
    cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder),
                                                    "output_dir": str(tmp_path / "model")})
    tr, dev = split_by_article(load_units([gold_split["train"]]), 0.34, 0)

    def broken_report(staging, result):
        raise OSError("tracking server unreachable")

    with pytest.raises(OSError, match="unreachable"):
        train_model(cfg, tr, dev, before_install=broken_report)
    assert not (tmp_path / "model").exists()
    assert list((tmp_path / "model.checkpoints").glob("checkpoint-*"))
    record = Record()
    train_model(cfg, tr, dev, callbacks=[record])
    assert record.first_step is None  # nothing left to train: it resumed after the last epoch
    assert (tmp_path / "model" / "argmine.json").is_file() and not (tmp_path / "model.checkpoints").exists()
