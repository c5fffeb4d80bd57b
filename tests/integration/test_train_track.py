"""Train, evaluate, cross-validate and serve through the CLI with a tiny model; check MLflow's store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import ROOT, smoke_args
from pipeline.cli import app
from pipeline.schema import LABELS

pytestmark = pytest.mark.integration
runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture
def trained(tmp_path, tiny_encoder, gold_split, mlflow_store):
    out = tmp_path / "model"
    result = invoke("train", *smoke_args(tiny_encoder, gold_split, out, "train.epochs=3"))
    return out, result


def test_train_writes_a_self_describing_model(trained, gold_split):
    out, result = trained
    for name in ("config.json", "model.safetensors", "tokenizer.json", "argmine.json"):
        assert (out / name).is_file(), name
    hf_config = json.loads((out / "config.json").read_text())
    assert hf_config["id2label"] == {"0": "pro-enforcement", "1": "civil-liberties", "2": "fiscal", "3": "federalism"}
    assert hf_config["problem_type"] == "multi_label_classification"
    manifest = json.loads((out / "argmine.json").read_text())
    assert set(manifest["thresholds"]) == {"pro-enforcement", "civil-liberties", "fiscal", "federalism"}
    assert all(0 < t < 1 for t in manifest["thresholds"].values())
    assert len(manifest["data_digest"]) == 64
    assert manifest["config"]["train"]["epochs"] == 3
    assert not (out.parent / "model.checkpoints").exists()
    assert "federalism" in result.output and "macro" in result.output


def test_mlflow_holds_the_run_with_params_metrics_artifacts_and_a_registered_model(trained, mlflow_store):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(mlflow_store)
    client = MlflowClient(mlflow_store, registry_uri=mlflow_store)
    exp = client.get_experiment_by_name("argmine-smoke")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.params["train.epochs"] == "3"
    assert run.data.params["model.kind"] == "transformer"
    for tag in ("git_commit", "data_digest", "encoder"):
        assert run.data.tags[tag]
    assert {"eval_macro_f1", "dev_macro_f1", "eval_federalism_f1", "eval_ece", "train_loss"} <= set(run.data.metrics)
    dev_loss = client.get_metric_history(run.info.run_id, "dev_loss")
    assert sorted(m.step for m in dev_loss) == [1, 2, 3]
    steps = sorted(client.get_metric_history(run.info.run_id, "train_loss_step"), key=lambda m: m.step)
    assert steps[-1].value < steps[0].value  # training lowers the loss
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.resolved.yaml", "eval", "dev"} <= artifacts
    evals = {a.path for a in client.list_artifacts(run.info.run_id, "eval")}
    assert {"eval/eval_metrics.json", "eval/eval_pr_curves.png", "eval/eval_label_confusion.png",
            "eval/eval_predictions.jsonl"} <= evals
    assert {i.dataset.name for i in run.inputs.dataset_inputs} == {"train", "dev", "eval"}
    version = client.get_model_version_by_alias("argmine-smoke", "champion")
    assert version.run_id == run.info.run_id
    # the version keeps the score it was judged on, and that is the run's final value
    assert float(version.tags["eval_macro_f1"]) == pytest.approx(run.data.metrics["eval_macro_f1"])
    # per-epoch dev metrics have names of their own: the final dev_* values are not overwritten
    assert [m.step for m in client.get_metric_history(run.info.run_id, "dev_macro_f1")] == [0]
    assert sorted(m.step for m in client.get_metric_history(run.info.run_id, "dev_macro_f1_at_0.5")) == [1, 2, 3]


def test_champion_moves_only_when_beaten(tmp_path, trained, tiny_encoder, gold_split, mlflow_store):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_store, registry_uri=mlflow_store)
    first = client.get_model_version_by_alias("argmine-smoke", "champion").version
    # A second identical run scores the same: not better, so the champion stays.
    invoke("train", *smoke_args(tiny_encoder, gold_split, tmp_path / "again", "train.epochs=3"))
    assert client.get_model_version_by_alias("argmine-smoke", "champion").version == first
    versions = client.search_model_versions("name='argmine-smoke'")
    assert len(versions) == 2


def test_pyfunc_model_labels_units_and_whole_articles(trained, mlflow_store):
    import mlflow
    import pandas as pd

    mlflow.set_tracking_uri(mlflow_store)
    mlflow.set_registry_uri(mlflow_store)
    model = mlflow.pyfunc.load_model("models:/argmine-smoke@champion")
    article = (ROOT / "data/seeds/seed-002.txt").read_text(encoding="utf-8")
    out = model.predict(pd.DataFrame({"doc_id": ["a1"], "text": [article]}))
    assert out["unit_id"].tolist()[:2] == ["a1:0", "a1:1"]
    assert (out["text"] == [article[s:e] for s, e in zip(out["start"], out["end"])]).all()
    assert {"labels", "score_fiscal", "score_federalism"} <= set(out.columns)
    units = model.predict(pd.DataFrame({"unit_id": ["u1"], "text": ["The county pays for the jail beds."]}))
    assert len(units) == 1 and 0.0 <= units["score_fiscal"][0] <= 1.0


def test_evaluate_reports_every_metric_and_writes_json(trained, gold_split, tmp_path):
    out, _ = trained
    result = invoke("evaluate", "--model", out, "--gold", gold_split["eval"], "--out", tmp_path / "ev")
    metrics = json.loads((tmp_path / "ev" / "eval_metrics.json").read_text())
    for label in ("pro-enforcement", "civil-liberties", "fiscal", "federalism"):
        for key in ("precision", "recall", "f1", "support"):
            assert f"{label}_{key}" in metrics
    assert {"macro_f1", "micro_f1", "exact_match", "ece"} <= set(metrics)
    assert "exact match" in result.output
    preds = [json.loads(line) for line in (tmp_path / "ev" / "eval_predictions.jsonl").read_text().splitlines()]
    assert len(preds) == metrics["n_units"] and set(preds[0]["scores"]) == set(LABELS)


def test_baseline_trains_and_evaluates_through_the_same_commands(tmp_path, gold_split, mlflow_store):
    out = tmp_path / "tfidf"
    invoke("train", "-c", ROOT / "configs/baseline.yaml", "--set", f"data.train=[{gold_split['train']}]",
           "--set", f"data.eval={gold_split['eval']}", "--set", f"output_dir={out}",
           "--set", "data.dev_fraction=0.34", "--set", "tracking.registered_model=argmine-smoke-tfidf")
    assert (out / "tfidf-model.safetensors").is_file() and (out / "tfidf-model.json").is_file()
    assert json.loads((out / "argmine.json").read_text())["kind"] == "tfidf"
    invoke("evaluate", "--model", out, "--gold", gold_split["eval"], "--out", tmp_path / "ev", "--no-track")
    assert (tmp_path / "ev" / "eval_metrics.json").is_file()


def test_dev_from_eval_calibrates_on_the_eval_articles_instead_of_scoring_them(tmp_path, gold_split, mlflow_store):
    from mlflow import MlflowClient

    out = tmp_path / "tfidf"
    result = invoke("train", "-c", ROOT / "configs/baseline.yaml", "--set", f"data.train=[{gold_split['train']}]",
                    "--set", f"data.eval={gold_split['eval']}", "--set", f"output_dir={out}",
                    "--set", "data.dev_from=eval", "--set", "tracking.registered_model=argmine-smoke-tfidf")
    assert "not scored" in result.output and "held-out evaluation" not in result.output
    client = MlflowClient(mlflow_store)
    run = client.search_runs([client.get_experiment_by_name("argmine").experiment_id])[0]
    eval_units = len(Path(gold_split["eval"]).read_text().splitlines())
    assert run.data.metrics["dev_n_units"] == eval_units  # the whole eval file is the dev set
    assert not any(k.startswith("eval_") for k in run.data.metrics)


def test_cross_validation_is_one_parent_run_with_a_nested_run_per_fold(tmp_path, tiny_encoder, gold_split,
                                                                       mlflow_store):
    from mlflow import MlflowClient

    result = invoke("cv", *smoke_args(tiny_encoder, gold_split, tmp_path / "m"), "--folds", "2",
                    "--out", tmp_path / "cv")
    summary = json.loads((tmp_path / "cv" / "cv_metrics.json").read_text())
    assert len(summary["folds"]) == 2
    held = [d for fold in summary["fold_docs"] for d in fold]
    assert sorted(held) == ["seed-003", "seed-004"]  # folds run over the evaluation articles
    assert summary["pooled"]["n_units"] == sum(f["n_units"] for f in summary["folds"])
    assert "mean ± std" in result.output
    client = MlflowClient(mlflow_store)
    exp = client.get_experiment_by_name("argmine-smoke")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1 and len(children) == 2
    assert "cv_pooled_macro_f1" in parents[0].data.metrics
    assert "test_macro_f1" in children[0].data.metrics


def test_kept_fold_models_rescore_to_the_cv_result_under_each_blend_setting(tmp_path, tiny_encoder, gold_split,
                                                                            mlflow_store):
    import subprocess
    import sys

    invoke("cv", *smoke_args(tiny_encoder, gold_split, tmp_path / "m", "model.tfidf_blend=auto"), "--folds", "2",
           "--keep-models", "--out", tmp_path / "cv")
    assert sorted(p.name for p in (tmp_path / "cv" / "folds").iterdir()) == ["fold-0", "fold-1"]
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/blend_study.py"), "--cv", str(tmp_path / "cv"),
                           "--settings", "auto", "per-label", "0", "--article-pool",
                           "--json", str(tmp_path / "study.json")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    study = json.loads((tmp_path / "study.json").read_text())
    assert study["check_max_abs_diff"] < 1e-6  # rescoring 'auto' reproduces the run it came from
    assert len(study["results"]["per-label"]["weights"]) == 2
    assert all(set(w) == {"pro-enforcement", "civil-liberties", "fiscal", "federalism"}
               for w in study["results"]["per-label"]["weights"])
    assert study["results"]["0"]["weights"] == [0.0, 0.0]
    assert "per-label" in proc.stdout
    pooled = study["results"]["per-label+pool"]  # the same blend, then a pooling weight per label from dev
    assert [w["blend"] for w in pooled["weights"]] == study["results"]["per-label"]["weights"]
    assert all(set(w["pool"]) == set(LABELS) for w in pooled["weights"])


def test_cv_ensemble_averages_the_fold_models_into_one_logged_model(tmp_path, tiny_encoder, gold_split,
                                                                    mlflow_store):
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    from pipeline.modeling import Manifest

    ens = tmp_path / "bagged"
    result = invoke("cv", *smoke_args(tiny_encoder, gold_split, tmp_path / "m"), "--folds", "2",
                    "--out", tmp_path / "cv", "--ensemble", ens)
    manifest = Manifest.load(ens)
    assert manifest.kind == "ensemble" and len(manifest.members) == 2 and "ensemble of the 2 fold models" in result.output
    members = [Manifest.load(ens / m) for m in manifest.members]
    np.testing.assert_allclose(manifest.threshold_list(), np.mean([m.threshold_list() for m in members], axis=0))
    assert not (tmp_path / "cv" / "folds").exists() or not any((tmp_path / "cv" / "folds").iterdir())
    client = MlflowClient(mlflow_store)
    parent = next(r for r in client.search_runs([client.get_experiment_by_name("argmine-smoke").experiment_id])
                  if "mlflow.parentRunId" not in r.data.tags)
    assert parent.data.tags["ensemble"] == str(ens)
    mlflow.set_tracking_uri(mlflow_store)
    model = mlflow.pyfunc.load_model(f"runs:/{parent.info.run_id}/model")
    out = model.predict(pd.DataFrame({"unit_id": ["u1"], "text": ["The county pays for the jail beds."]}))
    assert len(out) == 1 and 0.0 <= out["score_fiscal"][0] <= 1.0


def test_cv_refuses_an_ensemble_folder_it_would_delete_or_that_holds_a_model_before_training(tmp_path, tiny_encoder,
                                                                                           gold_split):
    args = smoke_args(tiny_encoder, gold_split, tmp_path / "m")
    inside = runner.invoke(app, [str(a) for a in ("cv", *args, "--folds", "2", "--out", tmp_path / "cv",
                                                  "--ensemble", tmp_path / "cv" / "bagged")])
    assert inside.exit_code == 1 and "inside the cv output folder" in inside.output
    assert not (tmp_path / "cv" / "folds").exists()  # refused before any fold trained
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    other = runner.invoke(app, [str(a) for a in ("cv", *args, "--folds", "2", "--out", tmp_path / "cv",
                                                 "--ensemble", tmp_path / "notes")])
    assert other.exit_code == 1 and "not a model" in other.output
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_training_is_deterministic_for_a_seed(tmp_path, tiny_encoder, gold_split):
    from pipeline.config import load_config
    from pipeline.data import load_units, split_by_article
    from pipeline.train import train_model

    probs = []
    for run in range(2):
        cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder),
                                                        "output_dir": str(tmp_path / f"m{run}")})
        units = load_units([gold_split["train"]])
        tr, dev = split_by_article(units, 0.34, 0)
        probs.append(train_model(cfg, tr, dev).dev_probs)
    np.testing.assert_array_equal(probs[0], probs[1])


def test_unknown_config_key_is_a_one_line_error(tmp_path):
    bad = tmp_path / "configs"
    bad.mkdir()
    (bad / "bad.yaml").write_text("name: bad\ndata:\n  train: [../data.jsonl]\nmodel:\n  encodr: x\n")
    result = runner.invoke(app, ["train", "-c", str(bad / "bad.yaml")])
    assert result.exit_code == 1
    assert "bad.yaml: unknown key 'model.encodr'" in result.output


def test_a_model_trained_with_context_scores_units_with_their_previous_unit(tmp_path, tiny_encoder, gold_split):
    from pipeline.config import load_config
    from pipeline.data import load_units, split_by_article
    from pipeline.predict import Labeller
    from pipeline.train import train_model

    cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder), "model.context": "previous",
                                                    "output_dir": str(tmp_path / "ctx")})
    units = load_units([gold_split["train"]])
    tr, dev = split_by_article(units, 0.34, 0)
    result = train_model(cfg, tr, dev)
    labeller = Labeller(result.model_dir, precision="fp32")
    assert labeller.uses_context
    with_context = labeller.score_units(dev)
    np.testing.assert_allclose(with_context, result.dev_probs, atol=1e-4)  # same inputs as in training
    alone = labeller.predict_proba([u.text for u in dev])
    assert not np.allclose(with_context[1:], alone[1:])


def test_a_tfidf_blend_is_saved_with_the_model_and_mixed_into_every_score(tmp_path, tiny_encoder, gold_split):
    from pipeline.config import load_config
    from pipeline.data import load_units, split_by_article
    from pipeline.modeling import TFIDF_BLEND
    from pipeline.predict import Labeller
    from pipeline.tfidf import TfidfLogit
    from pipeline.train import train_model

    units = load_units([gold_split["train"]])
    tr, dev = split_by_article(units, 0.34, 0)
    cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder), "model.tfidf_blend": 0.5,
                                                    "output_dir": str(tmp_path / "blend")})
    result = train_model(cfg, tr, dev)
    assert result.manifest.tfidf_blend == 0.5
    labeller = Labeller(result.model_dir, precision="fp32")
    mixed = labeller.score_units(dev)
    np.testing.assert_allclose(mixed, result.dev_probs, atol=1e-4)  # thresholds were chosen on these
    tfidf = TfidfLogit.load(result.model_dir, TFIDF_BLEND).predict_proba([u.text for u in dev])
    np.testing.assert_allclose(mixed, 0.5 * labeller._transformer_proba([u.text for u in dev], None) + 0.5 * tfidf,
                               atol=1e-5)

    cfg.model.tfidf_blend = "auto"
    cfg.output_dir = tmp_path / "auto"
    auto = train_model(cfg, tr, dev)
    assert auto.manifest.tfidf_blend in (0.0, 0.25, 0.5, 0.75)
    assert (auto.model_dir / f"{TFIDF_BLEND}.safetensors").is_file() == (auto.manifest.tfidf_blend > 0)

    cfg.model.tfidf_blend = "per-label"
    cfg.output_dir = tmp_path / "per-label"
    per_label = train_model(cfg, tr, dev)
    weights = per_label.manifest.tfidf_blend
    assert set(weights) == set(LABELS) and set(weights.values()) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    assert len(set(weights.values())) > 1  # this split's labels choose different weights
    labeller = Labeller(per_label.model_dir, precision="fp32")
    w = np.array([weights[label] for label in LABELS])
    tfidf = TfidfLogit.load(per_label.model_dir, TFIDF_BLEND).predict_proba([u.text for u in dev])
    expected = (1 - w) * labeller._transformer_proba([u.text for u in dev], None) + w * tfidf
    np.testing.assert_allclose(labeller.score_units(dev), expected, atol=1e-5)
    np.testing.assert_allclose(labeller.score_units(dev), per_label.dev_probs, atol=1e-4)


def test_a_blend_is_skipped_with_a_warning_when_a_label_has_no_training_positives(tmp_path, tiny_encoder,
                                                                                  gold_split, caplog):
    from pipeline.config import load_config
    from pipeline.data import load_units, split_by_article
    from pipeline.modeling import TFIDF_BLEND
    from pipeline.train import train_model

    units = load_units([gold_split["train"]])
    tr, dev = split_by_article(units, 0.34, 0)
    tr = [u for u in tr if "fiscal" not in u.labels]
    cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder), "model.tfidf_blend": 0.5,
                                                    "output_dir": str(tmp_path / "m")})
    with caplog.at_level("WARNING", logger="pipeline.train"):
        result = train_model(cfg, tr, dev)
    assert result.manifest.tfidf_blend == 0.0
    assert not list(result.model_dir.glob(f"{TFIDF_BLEND}.*"))
    assert "no positives for ['fiscal']" in caplog.text


@pytest.mark.parametrize("setting", ["model.tfidf_blend=1.0", "model.kind=tfidf"])
def test_a_blend_weight_out_of_range_or_on_a_tfidf_model_is_an_error(tmp_path, setting):
    from pipeline.config import load_config
    from pipeline.errors import ConfigError

    key, value = setting.split("=")
    overrides = {"model.tfidf_blend": 0.5} | {key: float(value) if key.endswith("blend") else value}
    with pytest.raises(ConfigError, match="tfidf_blend"):
        load_config(ROOT / "configs/smoke.yaml", overrides)


def test_a_terminated_command_ends_its_runs_as_killed_not_running(tmp_path, mlflow_store):
    import os
    import signal

    from mlflow import MlflowClient

    from pipeline.config import TrackingConfig
    from pipeline.tracking import open_tracker

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with open_tracker(TrackingConfig(experiment="argmine-kill"), run_name="cv", command="cv",
                          root=tmp_path) as tracker, tracker.child("fold-0"):
            os.kill(os.getpid(), signal.SIGTERM)  # what `kill` or a scheduler sends
    client = MlflowClient(mlflow_store)
    runs = client.search_runs([client.get_experiment_by_name("argmine-kill").experiment_id])
    assert sorted((r.info.run_name, r.info.status) for r in runs) == [("cv", "KILLED"), ("fold-0", "KILLED")]
    assert signal.getsignal(signal.SIGTERM) == before


def test_the_model_card_snippet_reproduces_the_labeller_and_the_folder_holds_no_pickle(tmp_path, tiny_encoder,
                                                                                       gold_split):
    """Plain transformers (and scikit-learn for the blend), following README.md, gives argmine's scores."""
    import re

    from pipeline.config import load_config
    from pipeline.data import load_units, split_by_article
    from pipeline.errors import ModelError
    from pipeline.predict import Labeller
    from pipeline.train import train_model

    units = load_units([gold_split["train"]])
    tr, dev = split_by_article(units, 0.34, 0)
    for context in ("previous", "around", "lead", "none", "tfidf"):
        sets = {"model.encoder": str(tiny_encoder), "model.tfidf_blend": 0.5 if context != "none" else 0.0,
                "output_dir": str(tmp_path / context)}
        sets |= {"model.kind": "tfidf", "model.tfidf_blend": 0.0} if context == "tfidf" else {"model.context": context}
        cfg = load_config(ROOT / "configs/smoke.yaml", sets)
        model_dir = train_model(cfg, tr, dev).model_dir
        names = {p.name for p in model_dir.iterdir()}
        assert "README.md" in names and "training_args.bin" not in names
        assert not [n for n in names if n.endswith((".joblib", ".pkl", ".bin"))]
        if context != "tfidf":
            config = json.loads((model_dir / "config.json").read_text())["argmine"]
            assert config["labels"] == list(LABELS) and config["context"] == context and len(config["thresholds"]) == 4
        card = (model_dir / "README.md").read_text()
        code = re.search(r"```python\n(.*?)```", card, re.S).group(1)
        article = [u for u in dev if u.doc_id == dev[0].doc_id]
        code = code.replace('model_dir = "."', f'model_dir = "{model_dir}"')
        code = re.sub(r"^units = .*$", f"units = {[u.text for u in article]!r}", code, flags=re.M)
        scope: dict = {}
        exec(compile(code, "README.md", "exec"), scope)
        labeller = Labeller(model_dir, precision="fp32")
        np.testing.assert_allclose(scope["probs"], labeller.score_units(article), atol=1e-4)
        assert scope["labels"] == labeller.decide(labeller.score_units(article))

    (model_dir / "training_args.bin").write_bytes(b"an older version's pickle")  # skipped, never loaded
    Labeller(model_dir)
    (model_dir / "extra.joblib").write_bytes(b"not really")
    with pytest.raises(ModelError, match="no pickles"):
        Labeller(model_dir)


def test_dev_probabilities_are_fp32_even_inside_bf16_autocast(tiny_encoder, gold_split):
    """Thresholds and blend weights are tuned on dev probabilities: they must be fp32 even when
    training ran under bf16 autocast (on a GPU, or a CPU with bf16), as ``evaluate`` scores in fp32."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    from pipeline.data import encoded_rows, load_units
    from pipeline.train import _fp32_probs

    units = load_units([gold_split["train"]])[:40]
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_encoder, num_labels=4).eval()
    rows = encoded_rows(units, lambda t, c: tokenizer(t, c, truncation=True, max_length=64))
    collate = DataCollatorWithPadding(tokenizer)
    plain = _fp32_probs(model, rows, collate, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = _fp32_probs(model, rows, collate, 16)
        batch = collate([{k: v for k, v in r.items() if k != "labels"} for r in rows[:16]])
        with torch.inference_mode():
            mixed = torch.sigmoid(model(**batch).logits.float()).numpy()
    np.testing.assert_array_equal(inside, plain)  # the same fp32 arithmetic
    assert np.abs(mixed - plain[:16]).max() > 1e-6  # what autocast would have given (an untrained model's
    # probabilities sit near 0.5, so its bf16 error is small; a trained one's is ~1e-3)


def test_a_cuda_config_without_cuda_fails_before_training(tmp_path, tiny_encoder, gold_split):
    import torch

    from pipeline.config import load_config
    from pipeline.data import load_units
    from pipeline.errors import ConfigError
    from pipeline.train import train_model

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    units = load_units([gold_split["train"]])
    cfg = load_config(ROOT / "configs/gpu.yaml", {"model.encoder": str(tiny_encoder), "output_dir": str(tmp_path / "g")})
    with pytest.raises(ConfigError, match="train.device is cuda, but torch sees no CUDA device"):
        train_model(cfg, units[:50], units[50:])
    assert not (tmp_path / "g").exists()


def test_demo_runs_every_stage_and_says_where_everything_is(tmp_path, tiny_encoder, gold_split, mlflow_store):
    import yaml

    (tmp_path / "configs").mkdir()
    cfg = yaml.safe_load((ROOT / "configs/smoke.yaml").read_text())
    cfg["model"]["encoder"] = str(tiny_encoder)
    cfg["data"] |= {"train": [str(gold_split["train"])], "eval": str(gold_split["eval"]), "dev_fraction": 0.34}
    cfg["output_dir"] = str(tmp_path / "model")
    (tmp_path / "configs" / "demo.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    result = invoke("demo", "--config", tmp_path / "configs" / "demo.yaml", "--out", out,
                    "--articles", ROOT / "data/seeds", "--gold", ROOT / "data/seed_units.jsonl")
    for path in ("segments.jsonl", "segment_scores.json", "evaluation/eval_metrics.json",
                 "labelled/units.jsonl", "labelled/articles.csv", "labelled/report.html"):
        assert (out / path).is_file(), path
    assert (tmp_path / "model" / "README.md").is_file() and (tmp_path / "model" / "run" / "eval_metrics.json").is_file()
    assert "report" in result.output and "Segmented 5 articles" in result.output


def test_evaluate_scores_article_stance_against_a_stance_file(trained, gold_split, tmp_path):
    from pipeline.data import load_units

    out, _ = trained
    docs = sorted({u.doc_id for u in load_units([gold_split["eval"]])})
    stance = tmp_path / "stance.tsv"
    stance.write_text("doc_id\tstance\n" + "".join(f"{d}\t{s}\n" for d, s in zip(docs, ["pro", "against", "mixed"] * 9)))
    result = invoke("evaluate", "--model", out, "--gold", gold_split["eval"], "--out", tmp_path / "ev",
                    "--stance", stance, "--no-track")
    metrics = json.loads((tmp_path / "ev" / "eval_metrics.json").read_text())
    rows = (tmp_path / "ev" / "eval_stance.tsv").read_text().splitlines()
    assert rows[0] == "doc_id\tgold\tpredicted\tbalance" and len(rows) == len(docs) + 1
    right = sum(r.split("\t")[1] == r.split("\t")[2] for r in rows[1:] if r.split("\t")[1] != "mixed")
    assert metrics["stance_n_articles"] == len(docs) and metrics["stance_one_sided_right_n"] == right
    assert "article stance: one-sided pieces right" in result.output
    # each article's stance is the one its predicted labels (eval_predictions.jsonl) give
    from pipeline.stance import article_stance

    by_doc: dict[str, list] = {}
    for line in (tmp_path / "ev" / "eval_predictions.jsonl").read_text().splitlines():
        unit = json.loads(line)
        by_doc.setdefault(unit["doc_id"], []).append(unit["labels"])
    assert {r.split("\t")[0]: r.split("\t")[2] for r in rows[1:]} == {d: article_stance(v) for d, v in by_doc.items()}

    bad = tmp_path / "bad.tsv"
    for content, error in [("doc_id\tstance\nx\tneutral\n", "bad.tsv:2: stance 'neutral'"),
                           (f"doc_id\tstance\n{docs[0]}\tpro\n{docs[0]}x\tpro\n", f"bad.tsv:3: doc_id '{docs[0]}x' is not")]:
        bad.write_text(content)
        failed = runner.invoke(app, [str(a) for a in ("evaluate", "--model", out, "--gold", gold_split["eval"],
                                                      "--out", tmp_path / "ev", "--stance", bad, "--no-track")])
        assert failed.exit_code == 1 and error in failed.output, failed.output
    assert (tmp_path / "ev" / "eval_stance.tsv").read_text().splitlines() == rows  # a refused run changes nothing
    invoke("evaluate", "--model", out, "--gold", gold_split["eval"], "--out", tmp_path / "ev", "--no-track")
    assert not (tmp_path / "ev" / "eval_stance.tsv").exists()  # no stale stance table beside new metrics
