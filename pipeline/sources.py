"""Read articles from files and folders, one at a time, reporting bad ones without stopping.

An INPUT is a ``.txt``/``.md`` file (read as it is), an ``.html``/``.htm`` page (reduced to its
article text by trafilatura), a ``.jsonl`` or ``.csv`` file with an id and a text field per row,
or a folder holding any of these (searched recursively, in sorted order). ``iter_articles``
yields an ``Article`` for every readable article and a ``SourceError`` for everything else, so a
bad file in a folder of ten thousand costs only itself.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
TABLE_SUFFIXES = (".jsonl", ".csv")
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + TABLE_SUFFIXES
ID_FIELDS = ("doc_id", "id")


@dataclass(frozen=True)
class Article:
    doc_id: str
    text: str
    source: str  # a path, or "path:line" for a row of a table


@dataclass(frozen=True)
class SourceError:
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def decode_text(source: str, raw: bytes) -> str | SourceError:
    """A file's bytes as text, or why they are not (empty, binary, not UTF-8)."""
    if not raw.strip():
        return SourceError(source, "empty file")
    if b"\x00" in raw[:8192]:
        return SourceError(source, "binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return SourceError(source, f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start})")


def file_article(path: Path, raw: bytes) -> Article | SourceError:
    """The article of a text or HTML file (``path`` names it: its stem is the doc_id), from its bytes."""
    text = decode_text(str(path), raw)
    if isinstance(text, SourceError) or path.suffix.lower() not in HTML_SUFFIXES:
        return text if isinstance(text, SourceError) else Article(path.stem, text, str(path))
    body = _html_text(text)
    if not body or not body.strip():
        return SourceError(str(path), "no article text found in the HTML")
    return Article(path.stem, body, str(path))


def _html_text(html: str) -> str | None:
    import trafilatura

    return trafilatura.extract(
        html, include_comments=False, include_tables=False, include_links=False, favor_precision=True
    )


def _row_id(row: dict, id_field: str | None) -> object:
    if id_field:
        return row.get(id_field)
    return next((row[f] for f in ID_FIELDS if row.get(f) not in (None, "")), None)


def _check_head(path: Path) -> SourceError | None:
    """Unreadable, empty or binary, judged on the first 8 KiB: all a streamed table is checked for
    before its rows (``decode_text`` checks a whole file)."""
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError as err:
        return SourceError(str(path), f"cannot read ({err.strerror})")
    if not head.strip() and path.stat().st_size <= len(head):
        return SourceError(str(path), "empty file")
    if b"\x00" in head:
        return SourceError(str(path), "binary file, not text")
    return None


def _table_rows(path: Path) -> Iterator[tuple[int, dict] | SourceError]:
    """Rows of a .jsonl or .csv file, read a line (or CSV record) at a time, each with the line
    it starts on. Lines end at \n: U+2028 and the like are legal inside JSON strings."""
    if path.suffix.lower() == ".jsonl":
        with path.open("rb") as f:
            for lineno, raw in enumerate(f, start=1):
                where = f"{path}:{lineno}"
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    yield SourceError(where, f"not valid UTF-8 (byte 0x{raw[err.start]:02x})")
                    continue
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    yield SourceError(where, f"not valid JSON ({err.msg})")
                    continue
                if not isinstance(row, dict):
                    yield SourceError(where, "expected a JSON object")
                    continue
                yield lineno, row
        return
    # CSV as the csv module wants it (text, newline=""): \r, \n and \r\n all end records
    with path.open(encoding="utf-8", newline="") as f:
        csv.field_size_limit(sys.maxsize)
        reader = csv.DictReader(f)
        try:
            reader.fieldnames  # noqa: B018 (reads the header line)
            while True:
                start = reader.line_num + 1  # a record may span lines: report its first
                try:
                    row = next(reader)
                except StopIteration:
                    return
                yield start, row
        except UnicodeDecodeError:  # decoded a block at a time: the line is approximate
            yield SourceError(f"{path}:{reader.line_num + 1}",
                              "not valid UTF-8 near this line; the rest of the file is skipped")
        except csv.Error as err:
            yield SourceError(f"{path}:{reader.line_num}", f"not valid CSV ({err}); the rest of the file is skipped")


def _read_table(path: Path, id_field: str | None, text_field: str) -> Iterator[Article | SourceError]:
    found = False
    for item in _table_rows(path):
        if isinstance(item, SourceError):
            yield item
            continue
        lineno, row = item
        where = f"{path}:{lineno}"
        doc_id, body = _row_id(row, id_field), row.get(text_field)
        if doc_id in (None, ""):
            wanted = id_field or " or ".join(ID_FIELDS)
            yield SourceError(where, f"no {wanted!r} field")
        elif not isinstance(body, str):
            yield SourceError(where, f"no text in field {text_field!r}")
        elif not body.strip():
            yield SourceError(where, f"empty text in field {text_field!r}")
        else:
            found = True
            yield Article(str(doc_id), body, where)
    if not found:
        yield SourceError(str(path), "no rows with an id and a text")


def _read_file(path: Path, id_field: str | None, text_field: str) -> Iterator[Article | SourceError]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        yield SourceError(str(path), f"unsupported file type; expected one of {', '.join(SUFFIXES)}")
        return
    if suffix in TABLE_SUFFIXES:  # streamed: a table may hold a whole corpus
        error = _check_head(path)
        if error:
            yield error
        else:
            yield from _read_table(path, id_field, text_field)
        return
    try:
        raw = path.read_bytes()
    except OSError as err:
        yield SourceError(str(path), f"cannot read ({err.strerror})")
        return
    yield file_article(path, raw)


def expand_inputs(inputs: Iterable[Path]) -> Iterator[Path | SourceError]:
    """Yield the readable files named by ``inputs``: files as given, folders searched recursively."""
    for path in map(Path, inputs):
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
            if not files:
                yield SourceError(str(path), f"folder holds no {'/'.join(SUFFIXES)} files")
            yield from files
        elif path.is_file():
            yield path
        else:
            yield SourceError(str(path), "no such file or folder")


def iter_articles(
    inputs: Iterable[Path], *, id_field: str | None = None, text_field: str = "text"
) -> Iterator[Article | SourceError]:
    """Yield every article of ``inputs`` in order, and an error for each thing that is not one.

    doc_ids are file stems for text and HTML files and the id field for table rows; a doc_id seen
    before is an error naming both sources, never a silent overwrite.
    """
    seen: dict[str, str] = {}
    for item in expand_inputs(inputs):
        if isinstance(item, SourceError):
            yield item
            continue
        for article in _read_file(item, id_field, text_field):
            if isinstance(article, Article):
                if article.doc_id in seen:
                    yield SourceError(
                        article.source,
                        f"doc_id {article.doc_id!r} is already used by {seen[article.doc_id]}",
                    )
                    continue
                seen[article.doc_id] = article.source
            yield article
