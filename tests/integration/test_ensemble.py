"""An ensemble folder averages its members and is used like any model folder."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import ROOT
from pipeline.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def _member(tmp_path, tiny_encoder, gold_split, name, **overrides):
    from pipeline.config import load_config
    from pipeline.run import train

    sets = {"model.encoder": str(tiny_encoder), "data.train": [str(gold_split["train"])], "data.eval": None,
            "data.dev_fraction": 0.34, "data.split_seed": 0, "output_dir": str(tmp_path / name)} | overrides
    return train(load_config(ROOT / "configs/smoke.yaml", sets)).model_dir


def test_an_ensemble_averages_its_members_and_labels_like_a_model(tmp_path, tiny_encoder, gold_split):
    from pipeline.data import label_matrix
    from pipeline.metrics import best_thresholds
    from pipeline.modeling import Manifest
    from pipeline.predict import Labeller
    from pipeline.run import split_units
    from pipeline.config import Config

    a = _member(tmp_path, tiny_encoder, gold_split, "a", **{"train.seed": 0})
    b = _member(tmp_path, tiny_encoder, gold_split, "b", **{"train.seed": 1, "model.context": "previous",
                                                           "model.tfidf_blend": 0.5})
    out = tmp_path / "ens"
    result = runner.invoke(app, ["ensemble", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = Manifest.load(out)
    assert manifest.kind == "ensemble" and len(manifest.members) == 2 and (out / "README.md").is_file()
    dev = split_units(Config.model_validate(Manifest.load(a).config)).dev
    mean = np.mean([Labeller(m, precision="fp32").score_units(dev) for m in (a, b)], axis=0)
    ens = Labeller(out, precision="fp32")
    np.testing.assert_allclose(ens.score_units(dev), mean, atol=1e-6)
    np.testing.assert_allclose(ens.thresholds, best_thresholds(label_matrix(dev), mean))

    labelled = runner.invoke(app, ["label", str(ROOT / "data/seeds/seed-001.txt"), "--model", str(out),
                                   "--out", str(tmp_path / "labelled")])
    assert labelled.exit_code == 0, labelled.output
    assert (tmp_path / "labelled" / "units.jsonl").read_text().count("\n") > 5


def test_members_tuned_on_other_dev_articles_are_refused(tmp_path, tiny_encoder, gold_split):
    from pipeline.data import load_units, split_by_article

    units = load_units([gold_split["train"]])
    dev_docs = lambda seed: {u.doc_id for u in split_by_article(units, 0.34, seed)[1]}  # noqa: E731
    other = next(seed for seed in range(1, 50) if dev_docs(seed) != dev_docs(0))
    a = _member(tmp_path, tiny_encoder, gold_split, "a", **{"data.split_seed": 0})
    b = _member(tmp_path, tiny_encoder, gold_split, "b", **{"data.split_seed": other})
    result = runner.invoke(app, ["ensemble", str(a), str(b), "--out", str(tmp_path / "ens")])
    assert result.exit_code == 1 and "other dev articles" in result.output
    assert not (tmp_path / "ens").exists()


def test_members_from_other_splits_average_with_the_mean_of_their_thresholds(tmp_path, tiny_encoder, gold_split):
    from pipeline.modeling import Manifest
    from pipeline.predict import Labeller
    from pipeline.data import load_units

    a = _member(tmp_path, tiny_encoder, gold_split, "a", **{"data.split_seed": 0})
    b = _member(tmp_path, tiny_encoder, gold_split, "b", **{"data.split_seed": 7, "train.seed": 1})
    out = tmp_path / "ens"
    result = runner.invoke(app, ["ensemble", str(a), str(b), "--out", str(out), "--thresholds", "mean"])
    assert result.exit_code == 0, result.output
    manifest, ma, mb = Manifest.load(out), Manifest.load(a), Manifest.load(b)
    np.testing.assert_allclose(manifest.threshold_list(), (np.array(ma.threshold_list()) + mb.threshold_list()) / 2)
    assert manifest.dev_metrics == {} and "mean of the members' own thresholds" in (out / "README.md").read_text()
    units = load_units([gold_split["train"]])[:12]
    mean = (Labeller(a, precision="fp32").score_units(units) + Labeller(b, precision="fp32").score_units(units)) / 2
    np.testing.assert_allclose(Labeller(out, precision="fp32").score_units(units), mean, atol=1e-6)

    bad = runner.invoke(app, ["ensemble", str(a), str(b), "--out", str(tmp_path / "x"), "--thresholds", "median"])
    assert bad.exit_code != 0 and "median" in bad.output and not (tmp_path / "x").exists()

    # the folder it writes never replaces what the user has: a member, another model, other files
    import shutil

    shutil.copytree(a, tmp_path / "a-copy")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    for target, error in [(a, "member"), (tmp_path / "a-copy", "holds a transformer model"),
                          (tmp_path / "mine", "not a model")]:
        refused = runner.invoke(app, ["ensemble", str(a), str(b), "--out", str(target), "--thresholds", "mean"])
        assert refused.exit_code == 1 and error in refused.output, refused.output
    assert Manifest.load(a).kind == Manifest.load(tmp_path / "a-copy").kind == "transformer"
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    again = runner.invoke(app, ["ensemble", str(b), str(a), "--out", str(out), "--thresholds", "mean"])
    assert again.exit_code == 0 and Manifest.load(out).members[0].endswith("-b")  # an ensemble is replaced
