"""The data contract of ``CODEBOOK.md`` section 4 as code.

Every file the pipeline reads or writes is JSON Lines with one unit per line. ``read_units``
rejects a malformed line with ``file:line: what is wrong``; ``atomic_write`` makes sure a reader
never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError

# The order is part of the contract: model heads, score columns and reports follow it.
LABELS: tuple[str, ...] = ("pro-enforcement", "civil-liberties", "fiscal", "federalism")
Label = Literal["pro-enforcement", "civil-liberties", "fiscal", "federalism"]


class Unit(BaseModel):
    """One argument unit: a span ``[start, end)`` of an article's decoded text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_id: str = Field(min_length=1)
    unit_id: str = Field(min_length=1)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(min_length=1)
    labels: list[Label] = Field(default_factory=list)

    @field_validator("labels")
    @classmethod
    def _sorted_unique(cls, labels: list[str]) -> list[str]:
        if labels != sorted(set(labels)):
            raise ValueError(f"labels must be sorted and without duplicates, got {labels}")
        return labels

    @model_validator(mode="after")
    def _span_matches_text(self) -> Unit:
        if self.end - self.start != len(self.text):
            raise ValueError(
                f"span [{self.start}, {self.end}) has length {self.end - self.start} "
                f"but text has length {len(self.text)}"
            )
        return self


class PredictedUnit(Unit):
    """A unit labelled by a model: ``scores`` maps every label to its probability."""

    scores: dict[Label, float]

    @field_validator("scores")
    @classmethod
    def _all_labels_scored(cls, scores: dict[str, float]) -> dict[str, float]:
        missing = set(LABELS) - set(scores)
        if missing:
            raise ValueError(f"scores miss labels {sorted(missing)}")
        return {label: scores[label] for label in LABELS}


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def iter_units(path: Path, model: type[Unit] = Unit) -> Iterator[Unit]:
    """Yield validated units from a JSONL file; raise ``InputError`` naming ``file:line``."""
    for _, unit in _numbered_units(path, model):
        yield unit


def _numbered_units(path: Path, model: type[Unit]) -> Iterator[tuple[int, Unit]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open("r", encoding="utf-8") as f:
        lineno = 0
        try:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise InputError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
                if not isinstance(record, dict):
                    raise InputError(f"{path}:{lineno}: expected a JSON object")
                try:
                    yield lineno, model.model_validate(record)
                except ValidationError as err:
                    raise InputError(f"{path}:{lineno}: {_describe(err)}") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}:{lineno + 1}: not valid UTF-8") from None


def read_units(path: Path, model: type[Unit] = Unit) -> list[Unit]:
    """Read a whole units file, checking that unit ids are unique."""
    units, first = [], {}
    for lineno, unit in _numbered_units(path, model):
        if unit.unit_id in first:
            raise InputError(f"{path}:{lineno}: duplicate unit_id {unit.unit_id!r} "
                             f"(first on line {first[unit.unit_id]})")
        first[unit.unit_id] = lineno
        units.append(unit)
    return units


def _umask() -> int:
    """The process umask, read without changing it where Linux says it (/proc), else by setting it
    back at once (at import, before any thread writes files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_mode(base: int) -> int:
    """``base`` (0o666 for files, 0o777 for folders) less the process umask: the mode a plain
    ``open()`` or ``mkdir`` would give, for the files and folders that temporary-file helpers create
    private (0600 / 0700)."""
    return base & ~_umask()


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it into place only on success."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; name a file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, default_mode(0o666))  # mkstemp makes 0600; the file gets what open() would give
        os.replace(tmp, path)  # readers never see half a file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def nan_to_none(value):
    """NaN (a figure nothing defines: a kappa nobody's decisions define, a share of no articles)
    as null, which every JSON reader accepts (json.dump would write NaN, which strict readers refuse)."""
    if isinstance(value, dict):
        return {k: nan_to_none(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_units(path: Path, units: Iterable[BaseModel]) -> int:
    """Write units as JSONL atomically; return how many were written."""
    n = 0
    with atomic_write(path) as f:
        for unit in units:
            f.write(unit.model_dump_json() + "\n")
            n += 1
    return n


def label_sets(probs, thresholds) -> list[list[str]]:
    """The labels each row of probabilities reaches (``thresholds`` per label, or per row and
    label), sorted as the codebook requires."""
    import numpy as np

    probs = np.asarray(probs)
    thresholds = np.broadcast_to(np.asarray(thresholds), probs.shape)
    return [sorted(LABELS[j] for j in np.flatnonzero(row >= thr)) for row, thr in zip(probs, thresholds)]


def predicted_units(units: Iterable[Unit], probs, thresholds) -> list[PredictedUnit]:
    """Units with their label sets and scores, rounded for the file: what ``label`` and
    ``evaluate`` write."""
    return [
        PredictedUnit(**unit.model_dump(exclude={"labels"}), labels=labels,
                      scores={label: round(float(p), 6) for label, p in zip(LABELS, row)})
        for unit, row, labels in zip(units, probs, label_sets(probs, thresholds))
    ]


def labels_to_vector(labels: Iterable[str]) -> list[float]:
    present = set(labels)
    return [1.0 if label in present else 0.0 for label in LABELS]
