"""Choosing and applying the tf-idf blend weight: one for all labels, or one per label."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.errors import ModelError
from pipeline.modeling import Manifest, mix
from pipeline.schema import LABELS
from pipeline.train import BLEND_GRID, PER_LABEL_GRID, choose_blend

# Four labels, eight dev units: the transformer ranks pro-enforcement perfectly and civil-liberties
# backwards; the tf-idf model does the opposite; both are uninformative on fiscal and federalism.
Y = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 1], [0, 0, 1, 1],
              [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]])
POS = Y[:, 0] == 1
TRANSFORMER = np.stack([np.where(POS, 1.0, 0.0), np.where(POS, 0.0, 1.0), np.full(8, 0.5), np.full(8, 0.5)], 1)
TFIDF = np.stack([np.where(POS, 0.0, 1.0), np.where(POS, 0.6, 0.4), np.full(8, 0.5), np.full(8, 0.5)], 1)


def test_per_label_weights_follow_the_model_that_ranks_each_label():
    weights, scores = choose_blend("per-label", Y, TRANSFORMER, TFIDF)
    assert set(weights) == set(LABELS)
    # w = 0 and 0.25 both separate pro-enforcement perfectly: the tie goes to the smaller weight.
    assert weights["pro-enforcement"] == 0.0
    # only the tf-idf model alone (w = 1) ranks civil-liberties the right way round.
    assert weights["civil-liberties"] == 1.0
    assert scores["civil-liberties_f1_blend_1.0"] == 1.0 > scores["civil-liberties_f1_blend_0.75"]
    assert len(scores) == len(LABELS) * len(PER_LABEL_GRID)
    mixed = mix(TRANSFORMER, TFIDF, weights)
    np.testing.assert_allclose(mixed[:, 0], TRANSFORMER[:, 0])
    np.testing.assert_allclose(mixed[:, 1], TFIDF[:, 1])


def test_auto_picks_one_weight_by_macro_f1_and_a_number_is_used_as_it_is():
    weight, scores = choose_blend("auto", Y, TRANSFORMER, TFIDF)
    assert weight in BLEND_GRID and set(scores) == {f"macro_f1_blend_{w}" for w in BLEND_GRID}
    assert scores[f"macro_f1_blend_{weight}"] == max(scores.values())
    assert choose_blend(0.3, Y, TRANSFORMER, TFIDF) == (0.3, {})
    np.testing.assert_allclose(mix(TRANSFORMER, TFIDF, 0.25), 0.75 * TRANSFORMER + 0.25 * TFIDF, rtol=1e-6)


def test_a_manifest_gives_a_weight_for_every_label_and_rejects_unknown_labels(tmp_path):
    base = dict(kind="transformer", labels=list(LABELS), thresholds=dict.fromkeys(LABELS, 0.5))
    assert Manifest(**base, tfidf_blend=0.5).blend_weights() == [0.5] * 4
    per_label = dict(zip(LABELS, (0.0, 1.0, 0.25, 0.5)))
    Manifest(**base, tfidf_blend=per_label).save(tmp_path)
    assert Manifest.load(tmp_path).blend_weights() == [0.0, 1.0, 0.25, 0.5]
    data = json.loads((tmp_path / "argmine.json").read_text())
    data["tfidf_blend"] = {"pro-enforcement": 0.5}
    (tmp_path / "argmine.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="tfidf_blend names labels"):
        Manifest.load(tmp_path)


def _blend_study():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "blend_study.py"
    spec = importlib.util.spec_from_file_location("blend_study", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_article_pooling_mixes_each_unit_with_its_own_articles_mean():
    study = _blend_study()
    probs = np.array([[0.9, 0.2, 0, 0], [0.1, 0.4, 0, 0], [0.6, 1.0, 1, 1]], dtype=np.float32)
    weights = {"pro-enforcement": 0.5, "civil-liberties": 0.0, "fiscal": 0.5, "federalism": 0.5}
    pooled = study.pool_by_article(probs, ["a", "a", "b"], weights)
    np.testing.assert_allclose(pooled[:, 0], [0.7, 0.3, 0.6])  # article a's mean is 0.5; b has one unit
    np.testing.assert_allclose(pooled[:, 1], probs[:, 1])  # weight 0 leaves a label alone


def test_article_pooling_is_chosen_per_label_where_the_article_carries_the_label():
    study = _blend_study()
    # pro-enforcement: unit scores are noise, but the article's mean tells positive articles apart;
    # the other labels are ranked perfectly unit by unit, so pooling can only blur them.
    docs = ["a", "a", "a", "b", "b", "b"]
    y = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 1], [0, 1, 0, 0], [0, 0, 1, 1]])
    probs = np.where(y == 1, 0.8, 0.2).astype(np.float32)
    probs[:, 0] = [0.9, 0.3, 0.6, 0.7, 0.2, 0.4]
    chosen = study.choose_pool(y, probs, docs)
    assert chosen["pro-enforcement"] > 0
    assert chosen["civil-liberties"] == chosen["fiscal"] == chosen["federalism"] == 0.0


def test_calibrate_chooses_the_blend_then_thresholds_on_dev():
    from pipeline.metrics import best_thresholds
    from pipeline.modeling import mix
    from pipeline.train import calibrate

    cal = calibrate("per-label", Y, TRANSFORMER, TFIDF)
    weights, _ = choose_blend("per-label", Y, TRANSFORMER, TFIDF)
    assert cal.weight == weights
    np.testing.assert_allclose(cal.probs, mix(TRANSFORMER, TFIDF, weights))
    np.testing.assert_allclose(cal.thresholds, best_thresholds(Y, cal.probs))
    np.testing.assert_allclose(cal.apply(TRANSFORMER, TFIDF), cal.probs)
    alone = calibrate("per-label", Y, TRANSFORMER, None)
    assert alone.weight == 0.0 and alone.probs is TRANSFORMER


def test_a_manifest_with_an_unknown_key_or_kind_is_refused(tmp_path):
    from pipeline.errors import ModelError
    from pipeline.modeling import Manifest

    good = {"kind": "transformer", "labels": list(LABELS), "thresholds": dict.fromkeys(LABELS, 0.5)}
    Manifest(**good).save(tmp_path)
    assert Manifest.load(tmp_path).kind == "transformer"
    for bad, message in (({**good, "threshold": 0.5}, "threshold"), ({**good, "kind": "svm"}, "kind")):
        (tmp_path / "argmine.json").write_text(json.dumps(bad))
        with pytest.raises(ModelError, match=f"unreadable model manifest \\({message}"):
            Manifest.load(tmp_path)
