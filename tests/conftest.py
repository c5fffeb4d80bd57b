"""Test-wide settings: no network, no writes to the home folder, the repository's paths."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# Set before anything imports transformers, datasets or mlflow.
_CACHE = Path(tempfile.mkdtemp(prefix="argmine-tests-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["HF_DATASETS_CACHE"] = str(_CACHE / "datasets")
os.environ["HF_HOME"] = str(_CACHE / "hf")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ["MPLCONFIGDIR"] = str(_CACHE / "mpl")
os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT with the packaged tokenizer: trains in a second."""
    from pipeline.modeling import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_encoder, gold_split) -> Path:
    """A model trained in seconds (configs/smoke.yaml, the tiny encoder, three seed articles); tests
    read it (``label``, ``annotate``, ``agreement``; test_label.py also exports it to ONNX)."""
    from pipeline.config import load_config
    from pipeline.data import load_units, split_by_article
    from pipeline.train import train_model

    out = tmp_path_factory.mktemp("tiny-model") / "m"
    cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder), "output_dir": str(out)})
    tr, dev = split_by_article(load_units([gold_split["train"]]), 0.34, 0)
    return train_model(cfg, tr, dev).model_dir


@pytest.fixture(scope="session")
def gold_split(tmp_path_factory) -> dict[str, Path]:
    """Seed units split by article: three articles to train on, two to evaluate on."""
    import json

    folder = tmp_path_factory.mktemp("gold")
    rows = [json.loads(line) for line in (DATA / "seed_units.jsonl").read_text().splitlines()]
    train_docs = {"seed-000", "seed-001", "seed-002"}
    paths = {"train": folder / "train.jsonl", "eval": folder / "eval.jsonl"}
    paths["train"].write_text("".join(json.dumps(r) + "\n" for r in rows if r["doc_id"] in train_docs))
    paths["eval"].write_text("".join(json.dumps(r) + "\n" for r in rows if r["doc_id"] not in train_docs))
    return paths


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch) -> str:
    """A private SQLite tracking store for one test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def smoke_args(encoder: Path, gold: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """CLI arguments that point configs/smoke.yaml at the tiny encoder and the test data."""
    args = ["-c", str(ROOT / "configs/smoke.yaml"), "--set", f"model.encoder={encoder}",
            "--set", f"data.train=[{gold['train']}]", "--set", f"data.eval={gold['eval']}",
            "--set", f"output_dir={out}", "--set", "data.dev_fraction=0.34"]
    for item in extra:
        args += ["--set", item]
    return args
