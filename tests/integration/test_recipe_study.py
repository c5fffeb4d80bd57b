"""scripts/recipe_study.py: both headlines for a recipe, in parts, merged, averaged and logged."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import DATA, ROOT

pytestmark = pytest.mark.integration


def test_a_recipe_study_runs_merges_averages_and_logs(tmp_path, tiny_encoder, gold_split, mlflow_store):
    # A stand-in for the real development set, made of synthetic articles (tests never read real-dev).
    dev_set = tmp_path / "dev-set"
    dev_set.mkdir()
    rows = [json.loads(line) for line in (DATA / "synthetic/units.jsonl").read_text().splitlines()]
    docs = ["syn-000", "syn-001", "syn-007"]
    (dev_set / "units.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows if r["doc_id"] in docs))
    stance = (DATA / "synthetic/stance.tsv").read_text().splitlines()
    (dev_set / "articles.tsv").write_text("\n".join([stance[0], *(l for l in stance if l.split("\t")[0] in docs)]) + "\n")
    script = [sys.executable, str(ROOT / "scripts/recipe_study.py")]
    common = ["--config", str(ROOT / "configs/smoke.yaml"), "--real-dev", str(dev_set),
              "--set", f"model.encoder={tiny_encoder}", "--set", f"data.train=[{gold_split['train']}]",
              "--set", f"data.eval={gold_split['eval']}", "--set", "data.dev_fraction=0.34"]
    for name, seed in (("a", "0"), ("b", "1")):
        done = subprocess.run([*script, *common, "--set", f"train.seed={seed}", "--set", "data.split_seed=0",
                               "--name", name, "--out", str(tmp_path / name)], capture_output=True, text=True,
                              timeout=600, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "real dev" in done.stdout and "seed CV (pooled)" in done.stdout
    study = json.loads((tmp_path / "a" / "study.json").read_text())
    assert set(study["train_seconds"]) == {"fold-0", "fold-1", "realdev"}  # one fold per eval article
    assert study["realdev"]["n_units"] == sum(r["doc_id"] in docs for r in rows)
    assert study["stance_realdev"]["n_articles"] == 3

    # An ensemble averages the members part by part: members that share their dev articles only.
    done = subprocess.run([*script, "--ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--out",
                           str(tmp_path / "a+b"), "--real-dev", str(dev_set)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    ens = json.loads((tmp_path / "a+b" / "study.json").read_text())
    assert ens["members"] == ["a", "b"] and ens["realdev"]["n_units"] == study["realdev"]["n_units"]

    done = subprocess.run([*script, "--log", str(tmp_path / "a" / "study.json"), str(tmp_path / "a+b" / "study.json")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    import mlflow

    mlflow.set_tracking_uri(mlflow_store)  # an earlier test in this process may have set another store
    runs = mlflow.search_runs(experiment_names=["argmine-recipes"])
    assert len(runs) == 2 and "metrics.realdev_macro_f1" in runs and "metrics.cv_pooled_macro_f1" in runs
