"""MLflow at the edge: the only module that imports mlflow.

- ``open_tracker`` starts one run per command in a named experiment and yields a ``Tracker``
  that forwards params, step metrics, artifacts, tags and datasets to it;
- ``log_model`` logs a model directory as an MLflow pyfunc model, registers it, and moves the
  ``champion`` alias only when the new version beats the current champion;
- ``ArgmineModel`` is that pyfunc model: it labels units, or whole articles (segmenting first);
- ``local_model_dir`` turns ``models:/NAME@alias`` or ``runs:/...`` into a model directory.

The default store is a SQLite database in the project (``sqlite:///<root>/mlflow.db``) with
artifacts in ``<root>/mlruns``; ``MLFLOW_TRACKING_URI`` or the config's ``tracking_uri`` point
it elsewhere, e.g. at a team's tracking server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import TrackingConfig
from .errors import ModelError
from .tracker import Tracker

log = logging.getLogger(__name__)
CHAMPION = "champion"


def project_from_cwd() -> Path:
    """The project folder when no config names it (``evaluate``, ``label``, ``ui``): $ARGMINE_HOME,
    else the nearest folder up from the working directory holding configs/. Commands given a
    config use ``config.project_root(config)`` instead, so both agree inside a project."""
    if os.environ.get("ARGMINE_HOME"):
        return Path(os.environ["ARGMINE_HOME"]).resolve()
    here = Path.cwd().resolve()
    return next((p for p in (here, *here.parents) if (p / "configs").is_dir()), here)


def tracking_uri(configured: str | None = None, root: Path | None = None) -> str:
    root = Path(root or project_from_cwd()).resolve()
    return os.environ.get("MLFLOW_TRACKING_URI") or configured or f"sqlite:///{root / 'mlflow.db'}"


def artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside its database, whatever the working directory."""
    if not uri.startswith("sqlite:///"):
        return None  # a tracking server decides where artifacts go
    return (Path(uri.removeprefix("sqlite:///")).parent / "mlruns").resolve().as_uri()


def _setup(uri: str) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)  # cloudpickle and registry chatter
    mlflow.set_tracking_uri(uri)
    if uri.startswith("sqlite:"):
        mlflow.set_registry_uri(uri)


def _experiment(name: str, uri: str) -> str:
    import mlflow

    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_root(uri))


def git_commit(root: Path | None = None) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root or Path(__file__).parent, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class MlflowTracker(Tracker):
    def __init__(self, run_id: str):
        self.run_id = run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        import mlflow

        mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        import math

        import mlflow

        clean = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and math.isfinite(v)}
        if clean:
            mlflow.log_metrics(clean, step=step)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        import mlflow

        mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        import mlflow

        mlflow.set_tags(dict(tags))

    def log_dataset(self, paths: Sequence[Path], units: Sequence[Any], name: str, context: str) -> None:
        import mlflow
        import pandas as pd

        df = pd.DataFrame([{"doc_id": u.doc_id, "unit_id": u.unit_id, "text": u.text,
                            "labels": ",".join(u.labels)} for u in units])
        source = ",".join(str(Path(p).resolve()) for p in paths)
        mlflow.log_input(mlflow.data.from_pandas(df, source=source, name=name), context=context)

    def log_model(self, model_dir: Path, tracking: Any, metrics: Mapping[str, float]) -> dict[str, Any]:
        return log_model(self, model_dir, tracking, metrics)

    @contextlib.contextmanager
    def child(self, name: str) -> Iterator[Tracker]:
        import mlflow

        parent = mlflow.get_run(self.run_id)
        with _run(run_name=name, nested=True, experiment_id=parent.info.experiment_id) as run:
            yield MlflowTracker(run.info.run_id)


@contextlib.contextmanager
def _run(**kwargs) -> Iterator[Any]:
    """``mlflow.start_run`` that ends as KILLED, not FAILED, when the user interrupts it."""
    import mlflow

    with mlflow.start_run(**kwargs) as run:
        try:
            yield run
        except KeyboardInterrupt:
            mlflow.end_run(status="KILLED")
            raise


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM (``kill``, a job scheduler, ``docker stop``) into KeyboardInterrupt while a
    run is open, so that the run is ended as KILLED instead of being left RUNNING forever."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def open_tracker(
    cfg: TrackingConfig, *, run_name: str, command: str, root: Path | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[Tracker]:
    """One MLflow run for one command; a do-nothing tracker when tracking is disabled."""
    if not cfg.enabled:
        yield Tracker()
        return
    import mlflow

    uri = tracking_uri(cfg.tracking_uri, root)
    _setup(uri)
    exp_id = _experiment(cfg.experiment, uri)
    mlflow.set_experiment(experiment_id=exp_id)
    commit = git_commit()
    all_tags = {"command": command, "mlflow.source.git.commit": commit, "git_commit": commit, **(tags or {})}
    with _sigterm_interrupts(), _run(experiment_id=exp_id, run_name=run_name, tags=all_tags) as run:
        log.info("MLflow run %s in experiment %r at %s", run.info.run_id, cfg.experiment, uri)
        yield MlflowTracker(run.info.run_id)


# -- the pyfunc model ------------------------------------------------------------------------------

import mlflow.pyfunc  # noqa: E402  (module-level: the pyfunc class must subclass PythonModel)
import pandas as pd  # noqa: E402


class ArgmineModel(mlflow.pyfunc.PythonModel):
    """Labels argument units. Input: a DataFrame with a ``text`` column and an optional
    ``doc_id``. Rows are whole articles (segmented first) unless a ``unit_id`` column marks them
    as units. Output: one row per unit with doc_id, unit_id, start, end, text, labels and one
    score column per label."""

    def load_context(self, context) -> None:
        from .predict import Labeller

        self.labeller = Labeller(Path(context.artifacts["model_dir"]))

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from .label import label_frame

        df = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return label_frame(self.labeller, df)


def log_model(
    tracker: Tracker, model_dir: Path, cfg: TrackingConfig, metrics: Mapping[str, float],
) -> dict[str, Any]:
    """Log ``model_dir`` as a pyfunc model in the active run and register it; maybe crown it."""
    if not isinstance(tracker, MlflowTracker):
        return {}
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    import pipeline

    reqs = [f"argmine=={pipeline.__version__}", "torch==2.13.0", "transformers>=5,<6", "pandas",
            "scikit-learn", "blingfire", "pysbd", "trafilatura", "pydantic>=2", f"mlflow=={mlflow.__version__}"]
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=ArgmineModel(),
        artifacts={"model_dir": str(model_dir)},
        code_paths=[str(Path(pipeline.__file__).parent)],
        pip_requirements=reqs,  # inferring them takes a subprocess and omits torch
        registered_model_name=cfg.registered_model,
    )
    out: dict[str, Any] = {"model_uri": info.model_uri}
    if not cfg.registered_model:
        return out
    client = MlflowClient()
    version = str(info.registered_model_version)
    out["version"] = version
    new = metrics.get(cfg.champion_metric)
    if new is not None:  # the value the version was judged on, kept with it for the next comparison
        client.set_model_version_tag(cfg.registered_model, version, cfg.champion_metric, f"{new:.17g}")
    try:
        current = client.get_model_version_by_alias(cfg.registered_model, CHAMPION)
        old = _judged_value(client, current, cfg.champion_metric)
    except MlflowException:
        current, old = None, None
    if new is not None and (current is None or old is None or new > old):
        client.set_registered_model_alias(cfg.registered_model, CHAMPION, version)
        out["champion"] = True
        log.info("%s v%s is the new %s (%s %.4f > %s)", cfg.registered_model, version, CHAMPION,
                 cfg.champion_metric, new, "none" if old is None else f"{old:.4f}")
    else:
        out["champion"] = False
        log.info("%s v%s registered; %s stays v%s (%s %s <= %.4f)", cfg.registered_model, version, CHAMPION,
                 current.version if current else "?", cfg.champion_metric, new, old or float("nan"))
    tracker.set_tags({"registered_version": version, "champion": str(out["champion"])})
    return out


def _judged_value(client, version, metric: str) -> float | None:
    """The champion's score on ``metric``: the tag set when it was registered or, for versions
    registered without one, the run's final (step 0) value, not whatever step was logged last."""
    if metric in version.tags:
        return float(version.tags[metric])
    history = client.get_metric_history(version.run_id, metric)
    final = [m.value for m in history if m.step == 0]
    return final[-1] if final else (history[-1].value if history else None)


def local_model_dir(model: str, tracking: str | None = None) -> Path:
    """A model directory for ``model``: a path as it is, or an MLflow model URI downloaded."""
    if "://" not in model and not model.startswith(("models:/", "runs:/")):
        return Path(model)
    import mlflow
    from mlflow.exceptions import MlflowException

    _setup(tracking_uri(tracking))
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model))
    except (MlflowException, OSError) as err:
        raise ModelError(f"cannot load MLflow model {model!r} from {tracking_uri(tracking)}: {err}") from None
    # pyfunc keeps the logged model directory under artifacts/<its folder name>
    found = sorted(p.parent for p in (local / "artifacts").glob("*/argmine.json"))
    if not found:
        raise ModelError(f"MLflow model {model!r} is not an argmine model (no argmine.json in its artifacts)")
    return found[0]


def ui_command(port: int, tracking: str | None = None, experiment: str = "argmine") -> tuple[list[str], dict, str]:
    """The ``mlflow ui`` command line, its environment and the address of the runs table."""
    import sys

    uri = tracking_uri(tracking)
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1"]
    if artifact_root(uri):
        cmd += ["--default-artifact-root", artifact_root(uri)]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    _setup(uri)
    import mlflow

    exp = mlflow.get_experiment_by_name(experiment)
    where = f"#/experiments/{exp.experiment_id}/runs" if exp else "#/experiments"
    return cmd, env, f"http://127.0.0.1:{port}/{where}"
