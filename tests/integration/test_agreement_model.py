"""The agreement command with a model as the second coder (--model), on a tiny trained model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.schema import LABELS, read_units, write_units

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tiny_model):
    return tiny_model


def test_model_as_second_coder_matches_its_predictions_file(tmp_path, model_dir, gold_split):
    from pipeline.evaluate import evaluate_model

    gold = gold_split["eval"]
    result = runner.invoke(app, ["agreement", str(gold), "--model", str(model_dir),
                                 "--json", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    assert f"model {model_dir}" in result.output and "macro alpha" in result.output
    by_model = json.loads((tmp_path / "m.json").read_text())
    assert by_model["n_units"] == len(read_units(gold))
    assert by_model["coders"] == [str(gold), f"model {model_dir}"]
    assert set(by_model["per_label"]) == set(LABELS)
    assert all({"kappa", "alpha"} <= set(m) for m in by_model["per_label"].values())

    # The same model's predictions written as a file (with scores) give the same figures.
    write_units(tmp_path / "pred.jsonl", evaluate_model(model_dir, read_units(gold)).predictions())
    result = runner.invoke(app, ["agreement", str(gold), str(tmp_path / "pred.jsonl"),
                                 "--json", str(tmp_path / "f.json")])
    assert result.exit_code == 0, result.output
    by_file = json.loads((tmp_path / "f.json").read_text())
    assert json.dumps(by_file["per_label"]) == json.dumps(by_model["per_label"])  # NaN compares as text
