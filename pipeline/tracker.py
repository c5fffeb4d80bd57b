"""The small interface through which core code reports to an experiment tracker.

Training, evaluation and cross-validation receive a ``Tracker`` from outside and never import a
tracking library; the base ``Tracker`` (the default) records nothing, and
``tracking.MlflowTracker`` forwards everything to MLflow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any


class Tracker:
    """Do-nothing base: every method is safe to call and records nothing."""

    def log_params(self, params: Mapping[str, Any]) -> None: ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None: ...

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None: ...

    def set_tags(self, tags: Mapping[str, str]) -> None: ...

    def log_dataset(self, paths: Sequence[Path], units: Sequence[Any], name: str, context: str) -> None: ...

    def log_model(self, model_dir: Path, tracking: Any, metrics: Mapping[str, float]) -> dict[str, Any]:
        """Log and register a trained model; the registry's answer (version, champion), or {}."""
        return {}

    @contextlib.contextmanager
    def child(self, name: str) -> Iterator[Tracker]:
        """A nested run (one cross-validation fold, say)."""
        yield self
