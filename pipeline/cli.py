"""The command line: parse options, call a stage, report. The work lives in the stage modules."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .errors import PipelineError

app = typer.Typer(
    name="argmine",
    help=(
        "Argument mining for immigration-enforcement op-eds: segment articles into argument "
        "units, train and evaluate a multi-label unit classifier, and label new op-eds. "
        "Formats follow the annotation codebook (JSON Lines, one unit per line)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring paragraphs reflow to the terminal width
)
console = Console()
err_console = Console(stderr=True)

InputsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Articles: .txt/.md/.html files, .jsonl/.csv files with an id and a text column, "
        "or folders of these (searched recursively).",
        show_default=False,
    ),
]
IdFieldOpt = Annotated[
    str | None,
    typer.Option(help="Id column of .jsonl/.csv inputs.", show_default="doc_id, else id"),
]
TextFieldOpt = Annotated[str, typer.Option(help="Text column of .jsonl/.csv inputs.")]


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def user_errors(fn):
    """Turn the package's own exceptions into a one-line message and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PipelineError as err:
            fail(str(err))
        except OSError as err:  # an output path that is a folder, a folder that is a file, no permission ...
            name = err.filename2 or err.filename  # a rename names its target second
            where = f"{name}: " if name else ""
            fail(f"{where}{err.strerror or err}")
        except KeyboardInterrupt:
            # Ctrl-C, or SIGTERM while an MLflow run is open (tracking.py ends the runs as KILLED).
            # Exit 130, the shell's code for SIGINT, instead of Typer's "Aborted!" and 1.
            fail("interrupted. `train` continues from its last checkpoint when run again, `label` with "
                 "--resume; an open MLflow run is ended as KILLED.", 130)

    return wrapper


@app.command()
@user_errors
def segment(
    inputs: InputsArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Units file to write (JSONL).")] = Path(
        "units.jsonl"
    ),
    splitter: Annotated[str, typer.Option(help="Sentence splitter: blingfire or pysbd.")] = "blingfire",
    id_field: IdFieldOpt = None,
    text_field: TextFieldOpt = "text",
) -> None:
    """Split articles into argument units (sentences of body text, boilerplate dropped).

    Reads INPUT files and folders; writes one JSON line per unit to --out with doc_id, unit_id,
    start, end, text and empty labels. Offsets index each article's decoded text (for HTML, the
    extracted article text). Unreadable inputs are reported one per line on stderr, the rest are
    segmented, and the exit status is 1 if anything failed.
    """
    from .segment import SPLITTERS, segment_inputs

    if splitter not in SPLITTERS:
        fail(f"--splitter must be one of {', '.join(SPLITTERS)}, not {splitter!r}")
    summary = segment_inputs(
        inputs, out, splitter=splitter, id_field=id_field, text_field=text_field, on_error=_skipped,
    )
    console.print(
        f"Segmented {summary.articles} articles into {summary.units} units -> {out}"
    )
    if summary.errors:
        fail(f"{summary.errors} input(s) could not be segmented; see the messages above")


@app.command("evaluate-segments")
@user_errors
def evaluate_segments(
    gold: Annotated[Path, typer.Option(help="Gold units (JSONL, codebook format).")],
    pred: Annotated[Path, typer.Option(help="Predicted units (JSONL), e.g. from `segment`.")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the scores and mismatches as JSON.")
    ] = None,
    max_listed: Annotated[int, typer.Option(help="List at most this many mismatches (0: all).")] = 0,
) -> None:
    """Score a segmentation against gold units by exact spans.

    A predicted unit counts only if its start and end both equal a gold unit's. Prints precision,
    recall and F1 and lists every mismatch (missed gold spans and spurious predicted spans).
    """
    _score_segments(gold, pred, json_out, max_listed)


def _score_segments(gold: Path, pred: Path, json_out: Path | None = None, max_listed: int = 0) -> None:
    from .schema import read_units
    from .segment_eval import score_spans

    score = score_spans(read_units(gold), read_units(pred))
    listed = score.mismatches if max_listed <= 0 else score.mismatches[:max_listed]
    for m in listed:
        console.print(
            f"[yellow]{m.kind:8}[/] {m.doc_id} [{m.start}:{m.end}] {m.text[:120]!r}", highlight=False
        )
    for doc in score.gold_only_docs:
        console.print(f"[red]no predictions for gold article {doc}[/]")
    for doc in score.pred_only_docs:
        console.print(f"[red]article {doc} is not in the gold file[/]")
    console.print(
        f"exact-span precision {score.precision:.4f}  recall {score.recall:.4f}  "
        f"F1 {score.f1:.4f}  (tp {score.tp}, fp {score.fp}, fn {score.fn})"
    )
    if json_out:
        from .schema import atomic_write

        with atomic_write(json_out) as f:
            json.dump(
                {**score.as_dict(), "mismatches": [m.__dict__ for m in score.mismatches]}, f, indent=2
            )


@app.command()
@user_errors
def agreement(
    a: Annotated[Path, typer.Argument(help="First coder's units (JSONL, codebook format).")],
    b: Annotated[
        Path | None,
        typer.Argument(help="Second coder's labels for the same units: a gold file or a model's predictions (`label`'s units.jsonl).", show_default=False),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Instead of B: a model directory (or MLflow model URI) that labels A's units.", show_default=False),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON.")] = None,
    disagreements_out: Annotated[
        Path | None,
        typer.Option("--disagreements", help="Write the units whose label sets differ (JSONL) for adjudication."),
    ] = None,
) -> None:
    """Agreement of two coders on the same units, where a coder may be a model.

    The second coder is file B (a gold file, or a model's predictions) or --model, which labels A's
    units. Units are matched by unit_id, or by span when the ids differ (a model's own segmentation);
    both must cover the same spans. Prints, per label, both coders' positives, observed agreement,
    Cohen's kappa and Krippendorff's alpha, then the macro averages (over labels someone used) and
    the share of units with identical label sets.
    """
    from .agreement import agreement as compute
    from .agreement import disagreements, pair_units, read_labelling
    from .schema import atomic_write, nan_to_none

    if (b is None) == (model is None):
        fail("give the second coder as a file B or as --model, exactly one of them")
    units_a = read_labelling(a)
    if model is not None:
        _setup_logging()
        from .label import label_units
        from .predict import Labeller

        labeller = Labeller(_resolve_model(model), precision="fp32")  # as `evaluate`: thresholds are fp32's
        units_b, coder_b = label_units(labeller, units_a), f"model {model}"
    else:
        units_b, coder_b = read_labelling(b), str(b)
    pairs = pair_units(units_a, units_b, names=(str(a), coder_b))
    result = compute(pairs)
    table = Table(title=f"agreement on {result.n_units} units: A {a}, B {coder_b}")
    for col in ("label", "positives A", "positives B", "observed", "kappa", "alpha"):
        table.add_column(col, justify="left" if col == "label" else "right")
    for label, m in result.per_label.items():
        table.add_row(label, str(m["positives_a"]), str(m["positives_b"]),
                      *(f"{m[key]:.3f}" for key in ("observed", "kappa", "alpha")))
    console.print(table)
    console.print(f"macro kappa {result.macro_kappa:.3f}; macro alpha {result.macro_alpha:.3f}; "
                  f"identical label sets {result.exact:.3f}")
    if json_out:
        with atomic_write(json_out) as f:
            figures = {"coders": [str(a), coder_b], "n_units": result.n_units, "exact": result.exact,
                       "macro_kappa": result.macro_kappa, "macro_alpha": result.macro_alpha,
                       "per_label": result.per_label}
            json.dump(nan_to_none(figures), f, indent=2)  # strict JSON: undefined figures are null
    if disagreements_out:
        rows = disagreements(pairs)
        with atomic_write(disagreements_out) as f:
            for u, v in rows:
                f.write(json.dumps({"unit_id": u.unit_id, "text": u.text, "labels_a": u.labels,
                                    "labels_b": v.labels}, ensure_ascii=False) + "\n")
        console.print(f"{len(rows)} disagreements -> {disagreements_out}")



def _setup_logging(verbose: bool = False) -> None:
    import logging

    from rich.logging import RichHandler

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)])
    import warnings

    for noisy in ("httpx", "urllib3", "filelock", "datasets", "alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # cloudpickle and registry chatter
    warnings.filterwarnings("ignore", module="mlflow")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "newly initialised classifier head" is expected here
    hf_logging.disable_progress_bar()  # weight loading and saving bars; the training bar stays


def _parse_overrides(pairs: list[str] | None) -> dict:
    import yaml

    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            fail(f"--set expects section.key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key] = yaml.safe_load(value)
    return out


def _metrics_table(title: str, metrics: dict, spread: dict | None = None) -> Table:
    from .schema import LABELS

    table = Table(title=title, title_justify="left")
    table.add_column("label", no_wrap=True)  # on a narrow console the numbers wrap, not the labels
    for col in ("precision", "recall", "F1", "support", "AP"):
        table.add_column(col, justify="right")

    def cell(key: str) -> str:
        v = metrics.get(key)
        if v is None:  # e.g. a model directory evaluated before average precision was reported
            return "-"
        return f"{v:.3f}" + (f" ± {spread[key]:.3f}" if spread and key in spread else "")

    for label in LABELS:
        table.add_row(label, cell(f"{label}_precision"), cell(f"{label}_recall"), cell(f"{label}_f1"),
                      str(int(metrics[f"{label}_support"])), cell(f"{label}_ap"))
    table.add_section()
    table.add_row("macro", cell("macro_precision"), cell("macro_recall"), cell("macro_f1"), "", cell("macro_ap"))
    table.add_row("micro", cell("micro_precision"), cell("micro_recall"), cell("micro_f1"), "", "")
    table.caption = (f"exact match {metrics['exact_match']:.3f} · calibration error (ECE) {metrics['ece']:.3f}"
                     f" · {int(metrics['n_units'])} units")
    return table


ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="YAML run config, e.g. configs/default.yaml.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value: section.key=value (repeatable), e.g. train.epochs=2."),
]


@app.command()
@user_errors
def train(
    config: ConfigOpt,
    overrides: SetOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue from the last checkpoint of an interrupted run.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train a unit classifier (fine-tuned transformer, or the tf-idf baseline) from a config.

    Reads the gold unit files in data.train, holds out data.dev_fraction of their articles as dev
    (for epochs and per-label thresholds; with data.dev_from: eval, the data.eval articles are the
    dev set instead), and writes a self-describing model directory to
    output_dir (default models/NAME). If data.eval is set, the model is scored on it. The run is
    tracked in MLflow (experiment tracking.experiment), the model logged and registered, and the
    `champion` alias moved only if the new version beats it on tracking.champion_metric.
    """
    _setup_logging(verbose)
    from .config import load_config

    _train(load_config(config, _parse_overrides(overrides)), config, resume)


def _train(cfg, config: Path, resume: bool = True):
    """``argmine train`` (and the demo's training step): the flow is ``pipeline.run.train``."""
    from .config import project_root
    from .run import split_units, tags_for
    from .run import train as run_train
    from .tracking import open_tracker

    split = split_units(cfg)  # checked and shown before the (long) training starts
    if split.note:
        console.print(split.note)
    console.print(f"[bold]{cfg.name}[/]: {len(split.train)} training units ({len({u.doc_id for u in split.train})} "
                  f"articles), {len(split.dev)} dev units ({len({u.doc_id for u in split.dev})} articles), "
                  f"{cfg.model.kind} {cfg.model.encoder if cfg.model.kind == 'transformer' else ''}")
    tags = tags_for(cfg, cfg.data.train) | {"config_file": str(config)}
    with open_tracker(cfg.tracking, run_name=cfg.name, command="train", tags=tags,
                      root=project_root(config)) as tracker:
        report = run_train(cfg, tracker, resume=resume, split=split)
    if report.held_out is not None:
        console.print(_metrics_table(f"held-out evaluation: {cfg.data.eval}", report.held_out.metrics))
    else:
        console.print(_metrics_table("dev articles", report.result.dev_metrics))
    console.print(f"model: [bold]{report.model_dir}[/] (model card: {report.model_dir / 'README.md'})")
    if report.registered.get("version"):
        crown = "now champion" if report.registered["champion"] else "champion unchanged"
        console.print(f"registered {cfg.tracking.registered_model} v{report.registered['version']} ({crown})")
    return report


def _resolve_model(model: str) -> Path:
    if model.startswith(("models:/", "runs:/")) or "://" in model:
        from .tracking import local_model_dir  # imports mlflow: only for MLflow URIs

        return local_model_dir(model)
    return Path(model)


@app.command()
@user_errors
def evaluate(
    model: Annotated[str, typer.Option(help="Model directory, or an MLflow model URI such as models:/NAME@champion.")],
    gold: Annotated[Path, typer.Option(help="Gold units to score against (JSONL, codebook format).")],
    out: Annotated[Path | None, typer.Option(help="Folder for metrics JSON, predictions and plots.", show_default="<model>/eval-<gold name>")] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment of the evaluation run.")] = "argmine",
    track: Annotated[bool, typer.Option(help="Record the evaluation as an MLflow run.")] = True,
    backend: Annotated[str, typer.Option(help="torch, onnx or onnx-int8.")] = "torch",
    stance: Annotated[Path | None, typer.Option(
        help="Gold article stances (TSV with doc_id and stance: pro, against or mixed), e.g. the real dev set's "
             "articles.tsv: also score each article's predicted stance.", show_default=False)] = None,
) -> None:
    """Score a model on gold units: per-label precision, recall, F1 and support, macro- and
    micro-F1, exact match and calibration error, and with --stance the articles' stance. Prints a
    table; writes metrics JSON, predictions (JSONL), PNG plots (and eval_stance.tsv) to --out; logs
    them as one MLflow run."""
    _setup_logging()
    from .config import TrackingConfig
    from .data import load_units
    from .evaluate import evaluate_model, score_stance, write_stance_tsv
    from .run import log_evaluation
    from .stance import read_stances
    from .tracking import open_tracker

    model_dir = _resolve_model(model)
    units = load_units([gold])
    docs = {u.doc_id for u in units}
    gold_stances = read_stances(stance, known=docs, known_from=gold) if stance else None
    if gold_stances is not None and len(gold_stances) < len(docs):
        console.print(f"[yellow]{stance}: no stance for {len(docs) - len(gold_stances)} of the {len(docs)} articles in "
                      f"{gold} (e.g. {min(docs - set(gold_stances))!r}); stance is scored on the other "
                      f"{len(gold_stances)}[/]")
    out = out or model_dir / f"eval-{gold.stem}"
    tcfg = TrackingConfig(experiment=experiment, enabled=track)
    with open_tracker(tcfg, run_name=f"evaluate {model_dir.name} on {gold.name}", command="evaluate",
                      tags={"model": str(model)}) as tracker:
        tracker.log_params({"model": str(model), "gold": str(gold), "backend": backend})
        tracker.log_dataset([gold], units, gold.stem, "evaluation")
        ev = evaluate_model(model_dir, units, backend=backend)
        rows = None
        if gold_stances is not None:  # stance_* join the metrics (JSON, MLflow); one row per article beside them
            stance_metrics, rows = score_stance(ev, gold_stances)
            ev.metrics.update(stance_metrics)
        log_evaluation(tracker, ev, out, "eval")
        write_stance_tsv(rows, out / "eval_stance.tsv")  # no --stance: an earlier run's file goes
        if rows:
            tracker.log_artifact(out / "eval_stance.tsv", artifact_path="eval")
    console.print(_metrics_table(f"{model} on {gold}", ev.metrics))
    if gold_stances is not None:
        m = stance_metrics
        one_sided = (f"one-sided pieces right {m['stance_one_sided_right_n']:.0f} of {m['stance_n_one_sided']:.0f} "
                     f"({m['stance_one_sided_right']:.0%}), wrong sign {m['stance_wrong_sign_n']:.0f}"
                     if m["stance_n_one_sided"] else "no one-sided (pro or against) pieces")
        console.print(f"article stance: {one_sided}; all {m['stance_n_articles']:.0f} articles "
                      f"{m['stance_accuracy']:.0%} (pro / against / mixed)")
    console.print(f"metrics, predictions and plots: [bold]{out}[/]")


@app.command()
@user_errors
def cv(
    config: ConfigOpt,
    overrides: SetOpt = None,
    folds: Annotated[int | None, typer.Option(help="Number of folds.", show_default="one per evaluation article")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the results.", show_default="<output_dir>-cv")] = None,
    keep_models: Annotated[bool, typer.Option(help="Keep each fold's model directory in <out>/folds/fold-N (deleted by default).")] = False,
    ensemble: Annotated[Path | None, typer.Option(
        help="Also average the fold models into one model folder here (the mean of their thresholds; "
             "see `argmine ensemble`), logged as the run's MLflow model.", show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Cross-validate by article over the evaluation set (data.eval), training corpus always in training.

    Each fold trains on data.train plus the other evaluation articles (dev held out by article
    from that side; with data.dev_from: eval, the other evaluation articles are the dev set) and
    scores the held-out articles. Prints pooled out-of-fold metrics and the
    mean ± spread over folds; writes cv_metrics.json and out-of-fold predictions; one MLflow parent
    run with a nested run per fold. With --ensemble, the fold models become one bagged model
    (configs/default.yaml's folds: the release ensemble, docs/RESULTS.md).
    """
    _setup_logging(verbose)
    from .config import load_config, project_root
    from .run import cross_validate_run, tags_for
    from .tracking import open_tracker

    cfg = load_config(config, _parse_overrides(overrides))
    if not cfg.data.eval:
        fail(f"{config}: cross-validation needs data.eval (the articles to fold over)")
    out = out or Path(str(cfg.output_dir) + "-cv")
    with open_tracker(cfg.tracking, run_name=f"cv {cfg.name}", command="cv",
                      tags=tags_for(cfg, [*cfg.data.train, cfg.data.eval]), root=project_root(config)) as tracker:
        result = cross_validate_run(cfg, out, tracker, folds=folds, keep_models=keep_models, ensemble=ensemble)
    console.print(_metrics_table(f"{cfg.name}: pooled out-of-fold, {len(result.folds)} folds by article",
                                 result.pooled.metrics))
    console.print(_metrics_table("mean ± std over folds", result.mean, result.std))
    console.print(f"results: [bold]{out}[/]")
    if ensemble is not None:
        console.print(f"ensemble of the {len(result.folds)} fold models: [bold]{ensemble}[/] "
                      f"(model card: {ensemble / 'README.md'})")


@app.command()
@user_errors
def label(
    inputs: InputsArg,
    model: Annotated[str, typer.Option(help="Model directory, or an MLflow model URI such as models:/argmine-unit-classifier@champion.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("labelled"),
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run in --out without relabelling finished articles.")] = False,
    backend: Annotated[str, typer.Option(help="torch, onnx (fp32) or onnx-int8 (CPU; run export-onnx first).")] = "torch",
    device: Annotated[str, typer.Option(help="auto (CUDA with bf16 if present, else all CPU cores), cpu or cuda.")] = "auto",
    batch_size: Annotated[int | None, typer.Option(min=1, help="Most units per forward pass (length-sorted). Default: 64 on a CPU, 1,024 on a GPU (at most 65,536 tokens a batch).", show_default=False)] = None,
    precision: Annotated[str, typer.Option(help="auto (bf16 where the CPU or GPU has native bf16), fp32 or bf16.")] = "auto",
    padding: Annotated[str, typer.Option(help="auto, exact (pad each batch to its longest unit: least arithmetic, the CPU default) or buckets (widths rounded up to multiples of 32 tokens so shapes repeat: the GPU default).")] = "auto",
    workers: Annotated[int | None, typer.Option(min=0, help="Processes that segment articles ahead of the model. Default: 0 on a CPU (the model needs the cores), up to 8 on a GPU.", show_default=False)] = None,
    id_field: IdFieldOpt = None,
    text_field: TextFieldOpt = "text",
) -> None:
    """Segment and label new op-eds in batch.

    Writes to --out: units.jsonl (codebook format with scores and thresholded labels),
    articles.csv (per article: units, share of units with each label, dominant label, stance
    balance between pro-enforcement and civil-liberties units), report.html (a self-contained page
    to read the batch) and errors.jsonl (inputs that could not be read). Streams, so memory stays
    flat; an interrupted run continues with --resume. Exit status 1 if any input failed.
    """
    from .label import label_inputs
    from .predict import Labeller

    model_dir = _resolve_model(model)
    import os

    labeller = Labeller(model_dir, device=device, batch_size=batch_size, backend=backend, precision=precision,
                        padding=padding)
    if workers is None:
        workers = min(8, max(0, (os.cpu_count() or 1) - 2)) if labeller.device.startswith("cuda") else 0
    summary = label_inputs(
        inputs, labeller, out, resume=resume, id_field=id_field, text_field=text_field, model_name=str(model),
        on_error=_skipped, batch_units=labeller.chunk_size, workers=workers,
    )
    _print_label_summary(summary, labeller, backend)


def _skipped(err) -> None:
    err_console.print(f"[red]skipped[/] {err}", highlight=False, soft_wrap=True)


def _print_label_summary(summary, labeller, backend: str) -> None:
    rate = summary.units / summary.seconds if summary.seconds else 0.0
    done = f"; {summary.skipped} finished earlier" if summary.skipped else ""
    console.print(f"Labelled {summary.articles} articles, {summary.units} units ({rate:,.0f} units/s on "
                  f"{labeller.device}, {backend}){done}")
    for name, path in summary.outputs.items():
        console.print(f"  {name:9} {path}")
    if summary.errors:
        fail(f"{len(summary.errors)} input(s) could not be labelled; see {summary.outputs['errors']}")


@app.command("spark-label")
@user_errors
def spark_label_command(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help="Articles: a .jsonl or .csv file, Parquet (a file or dataset folder), or a folder of .txt/.md/.html files; local or any path Spark reads (hdfs://, s3a://).", show_default=False)],
    model: Annotated[str, typer.Option(help="Model directory, or an MLflow model URI such as models:/argmine-unit-classifier@champion.")],
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder: units/ and articles/ Parquet datasets.")],
    master: Annotated[str | None, typer.Option(help="Spark master, e.g. local[4] or spark://host:7077. Default: what spark-submit set, else local[*].", show_default=False)] = None,
    partitions: Annotated[int | None, typer.Option(min=1, help="Repartition the articles into this many tasks (default: as read).", show_default=False)] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA on GPU executors), cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto (bf16 where native), fp32 or bf16.")] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out (only once the new result is complete).")] = False,
    id_field: IdFieldOpt = None,
    text_field: TextFieldOpt = "text",
) -> None:
    """Label an archive on Spark, with the same units, labels and scores as `label`.

    Executors segment and label the articles (the model folder, or the registered model, is
    shipped to them); the result is two Parquet datasets in --out: units/ (one row per unit, the
    codebook fields, labels and a score column per label) and articles/ (one row per article, the
    columns of articles.csv and an error column: an article that could not be read or labelled is
    an error row, not a failed job). --out appears complete or not at all. Needs pyspark and Java
    17 (`pip install -e ".[spark]"`); on a cluster run it through spark-submit (see the README).
    """
    try:
        from .spark import session, spark_label
    except ImportError as err:  # pragma: no cover - depends on the environment
        fail(f"spark-label needs pyspark ({err}); pip install -e \".[spark]\"")
    model_dir = _resolve_model(model)
    spark = session(master)
    spark.sparkContext.setLogLevel("ERROR")
    import time

    t0 = time.perf_counter()
    counts = spark_label(spark, input_path, model_dir, out, device=device, precision=precision, partitions=partitions,
                         overwrite=overwrite, id_field=id_field, text_field=text_field)
    seconds = time.perf_counter() - t0
    console.print(f"Labelled {counts['articles'] - counts['errors']} articles, {counts['units']} units on Spark "
                  f"({spark.sparkContext.master}; {counts['units'] / seconds:,.0f} units/s)")
    console.print(f"  units     {out}/units/\n  articles  {out}/articles/")
    if counts["errors"]:
        fail(f"{counts['errors']} article(s) could not be labelled; see the error column of {out}/articles/")


@app.command()
@user_errors
def ensemble(
    models: Annotated[list[Path], typer.Argument(help="Model folders to average (two or more).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Ensemble model folder to write.")],
    device: Annotated[str, typer.Option(help="auto, cpu or cuda, for scoring the dev articles.")] = "auto",
    thresholds: Annotated[str, typer.Option(
        help="dev: tune them on the members' shared dev articles; mean: the mean of the members' own "
             "thresholds, for members tuned on different dev articles (other splits or data, e.g. cv fold models).",
    )] = "dev",
) -> None:
    """Average trained models into one model folder, usable by label, evaluate and MLflow.

    Each label's probability is the mean of the members'. With --thresholds dev (the default) the
    members must share their dev articles (train them with the same data and data.split_seed;
    train.seed, encoder or context may differ), and per-label thresholds are tuned again on their
    averaged dev probabilities. With --thresholds mean they may come from different splits or data,
    and the ensemble takes the mean of their thresholds. The folder holds copies of the members, a
    manifest and a model card.
    """
    _setup_logging()
    from .ensemble import build_ensemble

    manifest, report = build_ensemble(models, out, device=device, thresholds=thresholds)
    for name, value in report.items():
        console.print(f"dev macro-F1 {name:30} {value:.3f}" + ("" if name == "ensemble" else " (own dev articles)"))
    if manifest.dev_metrics:
        console.print(_metrics_table(f"ensemble of {len(models)}: dev articles", manifest.dev_metrics))
    else:
        console.print(f"thresholds: the members' mean, {manifest.thresholds} (no shared dev articles to score on)")
    console.print(f"model: [bold]{out}[/] (model card: {out / 'README.md'})")


@app.command("export-onnx")
@user_errors
def export_onnx(
    model: Annotated[str, typer.Option(help="Transformer model directory (or MLflow model URI).")],
    gold: Annotated[Path, typer.Option(help="Units to check the export on.")] = Path("data/seed_units.jsonl"),
) -> None:
    """Export a transformer model to ONNX (fp32 and dynamic int8) for `label --backend onnx[-int8]`.

    Checks both against torch on --gold units (largest probability difference, share of identical
    label sets); int8 is kept only if >= 99% of label sets agree. Writes MODEL/onnx/.
    """
    from .data import load_units
    from .onnx_export import check_agreement, export

    model_dir = _resolve_model(model)
    folder = export(model_dir)
    report = check_agreement(model_dir, load_units([gold]))
    for key in ("fp32", "int8"):
        r = report[key]
        console.print(f"{key}: max |p - p_torch| {r['max_abs_prob_diff']:.2e}, identical label sets "
                      f"{r['label_set_agreement']:.2%}")
    console.print(f"int8 {report['int8']['verdict']}")
    console.print(f"written: [bold]{folder}[/]")


@app.command()
@user_errors
def demo(
    config: Annotated[Path, typer.Option("--config", "-c", help="Training config.")] = Path("configs/default.yaml"),
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("out"),
    articles: Annotated[Path, typer.Option(help="Articles to segment and label.")] = Path("data/seeds"),
    gold: Annotated[Path, typer.Option(help="Gold units of those articles.")] = Path("data/seed_units.jsonl"),
) -> None:
    """The main job on the bundled data: segment, train, evaluate, label, and say where everything is.

    1. segment the bundled seed articles and score the segmentation against their gold units;
    2. train with --config (tracked in MLflow, model registered);
    3. evaluate the model on the real seed articles (never trained on);
    4. label the seed articles: units.jsonl, articles.csv and report.html.
    """
    import time

    from .config import load_config
    from .data import load_units
    from .evaluate import evaluate_model
    from .label import label_inputs
    from .predict import Labeller
    from .run import log_evaluation
    from .segment import segment_inputs
    from .tracking import open_tracker

    t0 = time.perf_counter()
    cfg = load_config(config)
    console.rule("[bold]1/4 segment the bundled articles")
    seg = segment_inputs([articles], out / "segments.jsonl", on_error=_skipped)
    console.print(f"Segmented {seg.articles} articles into {seg.units} units -> {out / 'segments.jsonl'}")
    _score_segments(gold, out / "segments.jsonl", out / "segment_scores.json", max_listed=10)
    console.rule(f"[bold]2/4 train ({config})")
    _train(cfg, config)
    console.rule("[bold]3/4 evaluate on the real seed articles")
    with open_tracker(cfg.tracking.model_copy(update={"registered_model": None}), command="evaluate",
                      run_name=f"evaluate {cfg.output_dir.name} on {gold.name}") as tracker:
        ev = evaluate_model(cfg.output_dir, load_units([gold]))
        log_evaluation(tracker, ev, out / "evaluation", "eval")
    console.print(_metrics_table(f"{cfg.output_dir} on {gold}", ev.metrics))
    console.rule("[bold]4/4 label the seed articles")
    labeller = Labeller(cfg.output_dir)
    summary = label_inputs([articles], labeller, out / "labelled", model_name=str(cfg.output_dir), on_error=_skipped)
    _print_label_summary(summary, labeller, "torch")
    console.rule(f"[bold]done in {(time.perf_counter() - t0) / 60:.1f} min")
    console.print(f"""segmentation   {out / 'segments.jsonl'} (scores: {out / 'segment_scores.json'})
model          {cfg.output_dir} (training report: {cfg.output_dir / 'run'})
evaluation     {out / 'evaluation'}/eval_metrics.json, eval_pr_curves.png, eval_label_confusion.png
labelled units {out / 'labelled' / 'units.jsonl'}
per article    {out / 'labelled' / 'articles.csv'}
report         {out / 'labelled' / 'report.html'}  (open it in a browser)
MLflow         make ui   (or: argmine ui) then open the address it prints""")


@app.command()
@user_errors
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 5000,
) -> None:
    """Open the MLflow UI on 127.0.0.1 against the project's tracking store (or MLFLOW_TRACKING_URI)."""
    import subprocess

    from .tracking import ui_command

    cmd, env, url = ui_command(port)
    console.print(f"MLflow UI: [bold]{url}[/]  (Ctrl-C to stop)")
    try:
        subprocess.run(cmd, env=env, check=False)
    except KeyboardInterrupt:
        pass


annotate_app = typer.Typer(
    help="The annotation loop with Label Studio: export machine-labelled articles as tasks, import the "
    "corrected annotations as gold units.",
    no_args_is_help=True,
)
app.add_typer(annotate_app, name="annotate")


@annotate_app.command("export")
@user_errors
def annotate_export(
    inputs: InputsArg,
    model: Annotated[str, typer.Option(help="Model directory, or an MLflow model URI, that pre-labels the units.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Tasks file to write (Label Studio JSON); the labelling config goes beside it as .config.xml.")] = Path("tasks.json"),
    select: Annotated[int | None, typer.Option("--select", min=1, help="Export only the N articles the model is least sure of (with some diversity).", show_default=False)] = None,
    diversity: Annotated[float, typer.Option(min=0.0, max=1.0, help="With --select: weight against choosing articles much like ones already chosen (0: uncertainty alone).")] = 0.3,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    id_field: IdFieldOpt = None,
    text_field: TextFieldOpt = "text",
) -> None:
    """Pre-label articles and write them as Label Studio tasks.

    One task per article: its text, and every unit the segmenter finds as a region (region label
    `unit`) with the model's labels as per-region choices, sent as a Label Studio prediction (model
    version and confidence scores). Create a project with the .config.xml written beside --out,
    import the tasks, correct spans and labels, export the project as JSON, then run
    `argmine annotate import`.
    """
    from .annotate import task, write_tasks
    from .label import label_articles
    from .predict import Labeller
    from .sources import SourceError, iter_articles

    model_dir = _resolve_model(model)
    labeller = Labeller(model_dir, device=device, precision="fp32")
    articles, errors = [], []
    for item in iter_articles(inputs, id_field=id_field, text_field=text_field):
        (errors if isinstance(item, SourceError) else articles).append(item)
    for err in errors:
        _skipped(err)
    labelled = [pair for batch in label_articles(labeller, articles) for pair in batch]
    if select is not None:
        import numpy as np

        from .schema import LABELS
        from .select import select_articles

        units = [u for _, us in labelled for u in us]
        members = None
        if labeller.manifest.kind == "ensemble":  # where the members disagree counts as uncertain too
            members = np.stack([m.score_units(units) for m in labeller._members])
        chosen = select_articles([u.doc_id for u in units], np.array([[u.scores[lab] for lab in LABELS] for u in units]),
                                 labeller.thresholds, select, texts={a.doc_id: a.text for a, _ in labelled},
                                 member_probs=members, diversity=diversity)
        rank = {doc_id: i for i, (doc_id, _) in enumerate(chosen)}
        labelled = sorted((p for p in labelled if p[0].doc_id in rank), key=lambda p: rank[p[0].doc_id])
    thresholds = dict(zip(labeller.manifest.labels, map(float, labeller.thresholds)))
    version = f"{model} ({labeller.manifest_digest()[:12]})"
    n, config = write_tasks((task(a.doc_id, a.text, us, thresholds, version, a.source) for a, us in labelled), out)
    console.print(f"{n} tasks ({sum(len(us) for _, us in labelled)} units) -> [bold]{out}[/]; labelling config -> {config}")
    if errors:
        fail(f"{len(errors)} input(s) could not be read")


@annotate_app.command("import")
@user_errors
def annotate_import(
    export: Annotated[Path, typer.Argument(help="A Label Studio JSON export of an argmine project.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Gold units to write (codebook JSONL).")] = Path("gold.jsonl"),
) -> None:
    """Turn a Label Studio export into gold units (codebook JSONL) to train and evaluate on.

    Each annotated task becomes its article's units, with the spans and labels the annotator left
    (moved or added regions included). A malformed task, or one whose annotations disagree, is
    reported as `file: task N: what is wrong` and the rest is still written; the exit status is
    then 1. Tasks nobody annotated are skipped.
    """
    from .annotate import import_export
    from .schema import write_units

    result = import_export(export)
    for message in result.errors:
        err_console.print(f"[red]error[/] {message}", highlight=False, soft_wrap=True)
    write_units(out, result.units)
    note = f"; {len(result.not_annotated)} not annotated, skipped" if result.not_annotated else ""
    console.print(f"{result.articles} articles, {len(result.units)} units -> [bold]{out}[/]{note}")
    if result.errors:
        fail(f"{len(result.errors)} task(s) could not be imported")


def main() -> None:
    app(prog_name="argmine")


if __name__ == "__main__":
    sys.exit(main())
