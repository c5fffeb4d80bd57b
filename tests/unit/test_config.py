from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError


def write(tmp_path, text: str):
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "data.jsonl").write_text("")
    path = tmp_path / "configs" / "c.yaml"
    path.write_text(text)
    return path


def test_every_shipped_config_loads(root):
    for path in sorted((root / "configs").glob("*.yaml")):
        cfg = load_config(path)
        assert cfg.name and cfg.data.train


def test_unknown_key_names_the_key_and_the_file(tmp_path):
    path = write(tmp_path, "name: x\ndata:\n  train: [data.jsonl]\ntrain:\n  learning_rte: 0.1\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: unknown key 'train\.learning_rte'"):
        load_config(path)


def test_unknown_section_is_an_error(tmp_path):
    path = write(tmp_path, "name: x\ndata:\n  train: [data.jsonl]\noptimiser: {}\n")
    with pytest.raises(ConfigError, match="unknown key 'optimiser'"):
        load_config(path)


def test_bad_value_names_the_field(tmp_path):
    path = write(tmp_path, "name: x\ndata:\n  train: [data.jsonl]\ntrain:\n  epochs: 0\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: train\.epochs"):
        load_config(path)


def test_missing_data_file_is_an_error(tmp_path):
    path = write(tmp_path, "name: x\ndata:\n  train: [nope.jsonl]\n")
    with pytest.raises(ConfigError, match="nope.jsonl does not exist"):
        load_config(path)


def test_paths_resolve_against_the_project_and_overrides_apply(tmp_path):
    path = write(tmp_path, "name: x\ndata:\n  train: [data.jsonl]\n")
    cfg = load_config(path, {"train.epochs": 3})
    assert cfg.data.train == [tmp_path / "data.jsonl"]
    assert cfg.output_dir == tmp_path / "models" / "x"
    assert cfg.train.epochs == 3
    assert cfg.flat()["train.epochs"] == 3


def test_yaml_errors_are_one_line(tmp_path):
    path = write(tmp_path, "name: [x\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_eval_repeat_with_dev_from_eval_is_an_error(tmp_path):
    # With dev_from: eval the evaluation articles are the dev set, so there is nothing to repeat.
    path = write(tmp_path, "name: x\ndata:\n  train: [data.jsonl]\n  eval: data.jsonl\n  dev_from: eval\n"
                           "  eval_repeat: 3\n")
    with pytest.raises(ConfigError, match="eval_repeat"):
        load_config(path)
    assert load_config(path, {"data.eval_repeat": 1}).data.eval_repeat == 1


def test_the_release_configs_are_their_recipes_on_all_the_annotated_data(root):
    # release.yaml is mpnet.yaml, release-minilm.yaml is default.yaml (whose cross-validation estimates it),
    # each trained on the corpus and the seed articles: the recipes must not drift.
    for recipe, release in [("mpnet", "release"), ("default", "release-minilm")]:
        base, rel = load_config(root / f"configs/{recipe}.yaml"), load_config(root / f"configs/{release}.yaml")
        assert rel.model == base.model and rel.train == base.train, release
        assert rel.data.dev_fraction == base.data.dev_fraction
        assert set(rel.data.train) == {*base.data.train, base.data.eval}
        assert rel.data.eval is None
        assert rel.tracking.registered_model == "argmine-unit-classifier-release"
    assert load_config(root / "configs/release.yaml").model.encoder == "all-mpnet-base-v2"


def test_the_blend_setting_is_a_weight_auto_or_per_label(tmp_path):
    path = write(tmp_path, "name: x\nmodel:\n  tfidf_blend: per-label\ndata:\n  train: [data.jsonl]\n")
    assert load_config(path).model.tfidf_blend == "per-label"
    assert load_config(path, {"model.tfidf_blend": "auto"}).model.tfidf_blend == "auto"
    with pytest.raises(ConfigError, match="model.tfidf_blend"):
        load_config(path, {"model.tfidf_blend": "per-labels"})


def test_an_encoder_folder_in_the_project_is_found_from_any_working_directory(tmp_path, monkeypatch):
    (tmp_path / "enc").mkdir()
    path = write(tmp_path, "name: x\ndata:\n  train: [data.jsonl]\nmodel:\n  encoder: enc\n")
    monkeypatch.chdir(tmp_path / "configs")
    assert load_config(path).model.encoder == str(tmp_path / "enc")
    # a hub-style id that is no folder here is left for the hub
    path = write(tmp_path, "name: x\ndata:\n  train: [data.jsonl]\nmodel:\n  encoder: org/some-model\n")
    assert load_config(path).model.encoder == "org/some-model"


def test_a_missing_encoder_folder_is_an_error_not_a_hub_lookup(tmp_path):
    from pipeline.errors import ModelError
    from pipeline.modeling import resolve_encoder

    for name in (str(tmp_path / "nope"), "./models/nope", "models/sub/nope"):
        with pytest.raises(ModelError, match="encoder folder .* does not exist"):
            resolve_encoder(name)


def test_a_champion_metric_that_no_run_logs_is_a_config_error(root):
    with pytest.raises(ConfigError, match=r"tracking.champion_metric: .*unknown metric 'eval_macro_f'"):
        load_config(root / "configs/default.yaml", {"tracking.champion_metric": "eval_macro_f"})
    assert load_config(root / "configs/default.yaml", {"tracking.champion_metric": "dev_fiscal_f1"})
