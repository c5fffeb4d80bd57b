"""Bring a model folder trained by an older argmine up to today's format, in place.

Older folders hold their tf-idf models as joblib pickles (``model.joblib``, ``tfidf-blend.joblib``)
and the Trainer's ``training_args.bin`` (also a pickle), which today's loader refuses. This script
unpickles them ONCE, so run it only on folders you trained yourself, and writes what a folder holds
today: the tf-idf models as JSON + safetensors (same scores), the ``argmine`` block of
``config.json`` and the model card; the pickles are removed.

    python scripts/migrate_model.py models/default [more folders ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.card import add_to_hf_config, write_card  # noqa: E402
from pipeline.errors import PipelineError  # noqa: E402
from pipeline.errors import ModelError  # noqa: E402
from pipeline.modeling import TFIDF_BLEND, TFIDF_MODEL, Manifest  # noqa: E402
from pipeline.tfidf import _SETTINGS, TfidfLogit  # noqa: E402


def convert(pickle_path: Path, name: str) -> None:
    import joblib
    import sklearn

    pipe = joblib.load(pickle_path)
    vec, ovr = pipe.named_steps["tfidf"], pipe.named_steps["clf"]
    settings = {k: v for k, v in vec.get_params().items() if k in _SETTINGS}
    coef = np.stack([est.coef_[0] for est in ovr.estimators_])
    intercept = np.asarray([est.intercept_[0] for est in ovr.estimators_])
    model = TfidfLogit(settings, {t: int(i) for t, i in vec.vocabulary_.items()}, vec.idf_, coef, intercept,
                       sklearn_version=sklearn.__version__)
    probe = ["The county pays for every detainer hold.", "Local police should not do ICE's job."]
    dev = pickle_path.parent / "run" / "dev_predictions.jsonl"
    if dev.is_file():  # the texts the model was tuned on, as well
        probe += [json.loads(line)["text"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    gap = float(np.abs(model.predict_proba(probe) - pipe.predict_proba(probe)).max())
    if gap > 1e-6:
        raise ModelError(f"{pickle_path}: the converted model differs from the pickle by {gap:.2e}; left as it was")
    model.save(pickle_path.parent, name)
    pickle_path.unlink()


def migrate(model_dir: Path) -> None:
    manifest = Manifest.load(model_dir)
    for old, name in (("model.joblib", TFIDF_MODEL), ("tfidf-blend.joblib", TFIDF_BLEND)):
        if (model_dir / old).is_file():
            convert(model_dir / old, name)
    (model_dir / "training_args.bin").unlink(missing_ok=True)
    if manifest.kind == "transformer":
        add_to_hf_config(model_dir, manifest)
    write_card(model_dir, manifest, manifest.config.get("name", model_dir.name))
    print(f"{model_dir}: migrated")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for folder in sys.argv[1:]:
        try:
            migrate(Path(folder))
        except PipelineError as err:  # its message names the folder
            sys.exit(f"error: {err}")
        except (OSError, KeyError, AttributeError) as err:
            sys.exit(f"error: {folder}: {err}")
