"""Label articles in batch: segment, score, and write files people can analyse and read.

``label_inputs`` streams: articles are read one at a time, grouped until a batch holds enough
units to keep the model busy, scored together, and each batch is written as a *part* (its units,
then its article summaries, each file atomically; the summaries file marks the part complete).
Memory therefore stays flat however large the corpus. ``--resume`` skips every article of a
complete part and never writes a row twice. At the end the parts are streamed into
``units.jsonl``, ``articles.csv`` and ``report.html``, each written atomically.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .errors import InputError
from .predict import Labeller
from .schema import LABELS, PredictedUnit, Unit, atomic_write, predicted_units
from .segment import segment_document
from .sources import Article, SourceError, iter_articles
from .stance import stance_balance, stance_from_balance

PARTS = ".parts"
# articles.csv, in this order (stance last: older readers count columns); spark-label's articles/ too
ARTICLE_COLUMNS = ["doc_id", "source", "n_units", *(f"share_{lab}" for lab in LABELS), "share_none",
                   "dominant_label", "stance_balance", "stance"]


def predicted(labeller: Labeller, units: Sequence[Unit], probs: np.ndarray) -> list[PredictedUnit]:
    return predicted_units(units, probs, labeller.thresholds)


def label_units(labeller: Labeller, units: Sequence[Unit]) -> list[PredictedUnit]:
    return predicted(labeller, units, labeller.score_units(units))


def release_free_memory() -> None:
    """Hand freed heap back to the system (glibc's malloc_trim) between batches. Each batch
    allocates tensors and strings of new sizes, and the freed heap would otherwise stay with the
    process; with it, RSS between batches of a 20,000-unit run stays at 717-779 MB (the peak inside
    a batch is its activations: docs/RESULTS.md). A no-op off glibc."""
    import ctypes
    import ctypes.util

    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None


def _segment(article: Article) -> list[Unit]:
    return segment_document(article.doc_id, article.text)


def segmented(articles: Iterable[Article], workers: int = 0, block: int = 256) -> Iterator[tuple[Article, list[Unit]]]:
    """(article, its units) in input order. With ``workers`` > 0, worker processes segment blocks of
    articles ahead of the caller (two blocks in flight), so segmentation overlaps scoring without
    reading the whole input into memory."""
    if workers <= 0:
        for article in articles:
            yield article, _segment(article)
        return
    import multiprocessing
    from collections import deque
    from itertools import islice

    source = iter(articles)
    # spawn, not fork: the parent has torch's thread pools (and perhaps CUDA) running
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pending: deque = deque()

        def submit() -> None:
            block_ = list(islice(source, block))
            if block_:
                pending.append((block_, pool.map_async(_segment, block_, chunksize=max(1, block // (4 * workers)))))

        submit()
        while pending:
            submit()
            done, result = pending.popleft()
            yield from zip(done, result.get())


def label_articles(
    labeller: Labeller, articles: Iterable[Article], batch_units: int = 4096, workers: int = 0
) -> Iterator[list[tuple[Article, list[PredictedUnit]]]]:
    """Yield batches of (article, its labelled units); each batch is scored in one call."""
    batch: list[tuple[Article, list[Unit]]] = []
    n = 0

    def flush():
        units = [u for _, us in batch for u in us]
        scored = iter(label_units(labeller, units))
        return [(a, [next(scored) for _ in us]) for a, us in batch]

    for article, units in segmented(articles, workers):
        batch.append((article, units))
        n += len(units)
        if n >= batch_units:
            yield flush()
            batch, n = [], 0
    if batch:
        yield flush()


def article_summary(article: Article, units: Sequence[PredictedUnit]) -> dict:
    """One row of articles.csv: label shares, dominant label, the pro/civil-liberties balance and the
    article's stance read off it (``pipeline.stance``)."""
    n = len(units)
    counts = {label: sum(label in u.labels for u in units) for label in LABELS}
    none = sum(not u.labels for u in units)
    dominant = max(LABELS, key=lambda lab: counts[lab]) if any(counts.values()) else "none"
    row = {"doc_id": article.doc_id, "source": article.source, "n_units": n}
    row |= {f"share_{label}": round(counts[label] / n, 4) if n else 0.0 for label in LABELS}
    row["share_none"] = round(none / n, 4) if n else 0.0
    row["dominant_label"] = dominant
    # +1: every stance unit argues for enforcement; -1: every one argues from civil liberties.
    balance = stance_balance(u.labels for u in units)
    row["stance_balance"] = round(balance, 4) if balance is not None else ""
    row["stance"] = stance_from_balance(balance)
    return row


def label_frame(labeller: Labeller, df):
    """The pyfunc contract: rows of articles (or of units, if ``unit_id`` is a column) in, units out."""
    import pandas as pd

    if "text" not in df.columns:
        raise ValueError("input needs a 'text' column")
    ids = df["doc_id"].astype(str).tolist() if "doc_id" in df.columns else [f"doc-{i}" for i in range(len(df))]
    if "unit_id" in df.columns:
        missing = [c for c in ("doc_id", "start") if c not in df.columns]
        if labeller.uses_context and missing:
            # Without them every row would read the wrong neighbour (or none) as its context.
            raise ValueError(f"unit rows need {' and '.join(missing)} columns: this model reads each unit with "
                             f"its neighbours ({labeller.context}), found by article and offset")
        units = [Unit(doc_id=d, unit_id=str(uid), start=int(s) if "start" in df.columns else 0,
                      end=(int(s) if "start" in df.columns else 0) + len(t), text=t)
                 for d, uid, t, s in zip(ids, df["unit_id"], df["text"],
                                         df["start"] if "start" in df.columns else [0] * len(df))]
        out = label_units(labeller, units)
    else:
        articles = [Article(d, str(t), "request") for d, t in zip(ids, df["text"])]
        out = [u for batch in label_articles(labeller, articles) for _, us in batch for u in us]
    rows = []
    for u in out:
        row = u.model_dump(exclude={"scores"})
        row |= {f"score_{label}": u.scores[label] for label in LABELS}
        rows.append(row)
    columns = ["doc_id", "unit_id", "start", "end", "text", "labels", *(f"score_{label}" for label in LABELS)]
    return pd.DataFrame(rows, columns=columns)


# -- the label command -----------------------------------------------------------------------------


@dataclass
class LabelSummary:
    articles: int = 0
    units: int = 0
    skipped: int = 0  # finished in an earlier run (--resume)
    errors: list[SourceError] = field(default_factory=list)
    seconds: float = 0.0
    outputs: dict[str, Path] = field(default_factory=dict)


def _complete_parts(parts: Path) -> list[Path]:
    """Parts whose summaries file exists; leftovers of an interrupted batch are removed."""
    done = []
    for units_file in sorted(parts.glob("part-*.units.jsonl")):
        summary = units_file.with_name(units_file.name.replace(".units.", ".articles."))
        if summary.is_file():
            done.append(summary)
        else:
            units_file.unlink()
    return done


def _read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def label_inputs(
    inputs: Sequence[Path], labeller: Labeller, out_dir: Path, *, resume: bool = False,
    batch_units: int = 4096, id_field: str | None = None, text_field: str = "text",
    on_error=lambda e: None, model_name: str = "", workers: int = 0,
) -> LabelSummary:
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file; --out names a folder")
    parts = out_dir / PARTS
    if parts.exists() and not resume:
        import shutil

        shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)
    finished = _complete_parts(parts)
    stamp, stamp_file = {"model_manifest_sha256": labeller.manifest_digest()}, parts / "run.json"
    if finished and (not stamp_file.is_file() or json.loads(stamp_file.read_text()) != stamp):
        raise InputError(f"{out_dir}: the articles finished there were labelled by another model (or an older "
                         "version); label into a new folder, or run without --resume to start again")
    with atomic_write(stamp_file) as f:
        json.dump(stamp, f)
    done_ids = {row["doc_id"] for p in finished for row in _read_jsonl(p)}
    summary = LabelSummary(skipped=len(done_ids))
    next_part = len(finished)

    def fresh() -> Iterator[Article]:
        for item in iter_articles(inputs, id_field=id_field, text_field=text_field):
            if isinstance(item, SourceError):
                summary.errors.append(item)
                on_error(item)
            elif item.doc_id not in done_ids:
                yield item

    start = time.perf_counter()
    with tqdm(desc="labelling", unit=" units", disable=None, dynamic_ncols=True) as bar:
        for batch in label_articles(labeller, fresh(), batch_units, workers):
            name = f"part-{next_part:06d}"
            with atomic_write(parts / f"{name}.units.jsonl") as f:
                for _, units in batch:
                    for u in units:
                        f.write(u.model_dump_json() + "\n")
            with atomic_write(parts / f"{name}.articles.jsonl") as f:  # marks the part complete
                for article, units in batch:
                    f.write(json.dumps({**article_summary(article, units), "text": article.text}) + "\n")
            next_part += 1
            release_free_memory()
            n = sum(len(us) for _, us in batch)
            summary.articles += len(batch)
            summary.units += n
            bar.update(n)
    summary.seconds = time.perf_counter() - start
    summary.outputs = _assemble(parts, out_dir, summary.errors, model_name)
    return summary


def _assemble(parts: Path, out_dir: Path, errors: Sequence[SourceError], model_name: str) -> dict[str, Path]:
    from .report import write_report

    unit_files = sorted(parts.glob("part-*.units.jsonl"))
    article_files = sorted(parts.glob("part-*.articles.jsonl"))
    outputs = {"units": out_dir / "units.jsonl", "articles": out_dir / "articles.csv",
               "report": out_dir / "report.html", "errors": out_dir / "errors.jsonl"}
    with atomic_write(outputs["units"]) as f:
        for path in unit_files:
            with path.open(encoding="utf-8") as src:
                for line in src:
                    f.write(line)
    with atomic_write(outputs["articles"]) as f:
        writer = csv.DictWriter(f, fieldnames=ARTICLE_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for path in article_files:
            writer.writerows(_read_jsonl(path))
    with atomic_write(outputs["errors"]) as f:
        for err in errors:
            f.write(json.dumps({"source": err.source, "error": err.message}) + "\n")

    def articles() -> Iterator[tuple[dict, list[PredictedUnit]]]:
        for a_path, u_path in zip(article_files, unit_files):
            units_by_doc: dict[str, list[PredictedUnit]] = {}
            for row in _read_jsonl(u_path):
                units_by_doc.setdefault(row["doc_id"], []).append(PredictedUnit.model_validate(row))
            for art in _read_jsonl(a_path):
                yield art, units_by_doc.get(art["doc_id"], [])

    write_report(outputs["report"], articles(), n_errors=len(errors), model_name=model_name)
    return outputs
