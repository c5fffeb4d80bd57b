"""Average several trained models into one: an ensemble model folder.

Their probabilities are averaged; the per-label thresholds come one of two ways:

- ``dev`` (default): the members share their dev articles (same data, ``data.dev_fraction`` and
  ``data.split_seed``; ``train.seed``, the encoder or the context may differ), and the thresholds
  are tuned again on the *averaged* dev probabilities (each member's own thresholds were tuned for
  it alone);
- ``mean``: the members were tuned on different dev articles (trained on different splits, or on
  different data, such as cross-validation fold models): no article is held out from all of them,
  so the ensemble takes the mean of its members' thresholds and has no dev figure of its own.

The ensemble folder holds copies of its members under ``members/``, so it is self-contained:
``label``, ``evaluate`` and the MLflow model load it like any other model folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from .card import CARD, ensemble_card
from .config import Config
from .data import digest, label_matrix
from .errors import ConfigError, ModelError
from .metrics import best_thresholds, multilabel_metrics
from .modeling import MANIFEST, Manifest, library_versions
from .schema import LABELS, atomic_write, default_mode


def _dev_units(manifest: Manifest, where: Path):
    from .run import split_units

    try:
        cfg = Config.model_validate(manifest.config)
    except ValueError as err:
        raise ModelError(f"{where}: its manifest's config is not valid today ({err})") from None
    missing = [str(p) for p in cfg.data.train if not Path(p).is_file()]
    if missing:
        raise ModelError(f"{where}: its training files are needed to find its dev articles: {missing[0]} is missing")
    if manifest.data_digest and digest(cfg.data.train) != manifest.data_digest:
        raise ModelError(f"{where}: its training files changed since it was trained (data digest differs)")
    return split_units(cfg).dev


THRESHOLDS = ("dev", "mean")


def check_ensemble_out(out_dir: Path, member_dirs: Sequence[Path] = ()) -> None:
    """Refuse an ensemble folder that would replace something the user has: a member (or a folder
    holding one), a model folder that is not an ensemble, or a folder of other files. An earlier
    ensemble at ``out_dir`` is replaced, as retraining replaces a model."""
    out = Path(out_dir).resolve()
    for d in member_dirs:
        member = Path(d).resolve()
        if out == member or member.is_relative_to(out) or out.is_relative_to(member):
            raise ConfigError(f"{out_dir}: the ensemble folder cannot be, hold or sit inside a member ({d})")
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"{out_dir}: exists and is not a folder")
    if (out / MANIFEST).is_file():
        kind = Manifest.load(out).kind
        if kind != "ensemble":
            raise ConfigError(f"{out_dir}: holds a {kind} model, which an ensemble would replace; choose another "
                              "folder or remove it")
    elif any(out.iterdir()):
        raise ConfigError(f"{out_dir}: is a folder of other files, not a model; choose another folder")


def build_ensemble(member_dirs: Sequence[Path], out_dir: Path, *, device: str = "auto",
                   thresholds: Literal["dev", "mean"] = "dev") -> tuple[Manifest, dict]:
    """Write an ensemble of ``member_dirs`` to ``out_dir``; its manifest, and each member's dev
    macro-F1 (at its own thresholds) next to the ensemble's (``dev`` thresholds only), for the
    report."""
    from .train import _install

    if len(member_dirs) < 2:
        raise ConfigError("an ensemble needs at least two member models")
    if thresholds not in THRESHOLDS:
        raise ConfigError(f"thresholds {thresholds!r}: choose dev or mean")
    check_ensemble_out(out_dir, member_dirs)
    manifests = [Manifest.load(d) for d in member_dirs]
    for d, m in zip(member_dirs, manifests):
        if m.kind == "ensemble":
            raise ModelError(f"{d}: is itself an ensemble; list its members instead")
        if list(m.labels) != list(LABELS):
            raise ModelError(f"{d}: labels {m.labels} are not {list(LABELS)} in that order")
    if thresholds == "dev":
        tuned, dev_metrics, report, n_dev = _tune_on_shared_dev(member_dirs, manifests, device)
    else:
        tuned = np.mean([m.threshold_list() for m in manifests], axis=0)
        dev_metrics, n_dev = {}, 0
        report = {f"member {Path(d).name}": m.dev_metrics.get("macro_f1", float("nan"))
                  for d, m in zip(member_dirs, manifests)}
    names = [f"{i}-{Path(d).resolve().name}" for i, d in enumerate(member_dirs)]
    manifest = Manifest(
        kind="ensemble", labels=list(LABELS), thresholds={lab: float(t) for lab, t in zip(LABELS, tuned)},
        max_length=max(m.max_length for m in manifests), encoder=" + ".join(m.encoder for m in manifests),
        # members on other data (cv folds) each have their own digest; the config is the first member's
        data_digest="+".join(dict.fromkeys(m.data_digest for m in manifests)), config=manifests[0].config,
        dev_metrics=dev_metrics, versions=library_versions(),
        members=[f"members/{n}" for n in names],
    )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(default_mode(0o777))
    try:
        for d, n in zip(member_dirs, names):
            shutil.copytree(d, staging / "members" / n, ignore=shutil.ignore_patterns("*.checkpoints", "run"))
        manifest.save(staging)
        with atomic_write(staging / CARD) as f:
            f.write(ensemble_card(manifest, out_dir.name, [Path(d).name for d in member_dirs], report, n_dev))
        _install(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return manifest, report


def _tune_on_shared_dev(member_dirs: Sequence[Path], manifests: Sequence[Manifest], device: str):
    """Thresholds tuned on the members' averaged probabilities over their shared dev articles."""
    from .predict import Labeller

    dev = _dev_units(manifests[0], member_dirs[0])
    for d, m in zip(member_dirs[1:], manifests[1:]):
        other = _dev_units(m, d)
        if [u.unit_id for u in other] != [u.unit_id for u in dev]:
            raise ConfigError(f"{d}: was tuned on other dev articles than {member_dirs[0]}; train the members with "
                              "the same data and data.split_seed (train.seed may differ), or use the mean of "
                              "their thresholds (--thresholds mean)")
    y = label_matrix(dev)
    probs = [Labeller(d, device=device, precision="fp32").score_units(dev) for d in member_dirs]
    mean = np.mean(probs, axis=0)
    tuned = best_thresholds(y, mean)
    dev_metrics = multilabel_metrics(y, mean, tuned)
    report = {f"member {Path(d).name}": multilabel_metrics(y, p, m.threshold_list())["macro_f1"]
              for d, p, m in zip(member_dirs, probs, manifests)}
    report["ensemble"] = dev_metrics["macro_f1"]
    return tuned, dev_metrics, report, len(dev)
