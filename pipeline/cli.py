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
    typer.Option(help="Id column of .jsonl/.csv inputs [default: doc_id, else id]."),
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
        inputs, out, splitter=splitter, id_field=id_field, text_field=text_field,
        on_error=lambda e: err_console.print(f"[red]skipped[/] {e}", highlight=False, soft_wrap=True),
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


def main() -> None:
    app(prog_name="argmine")


if __name__ == "__main__":
    sys.exit(main())
