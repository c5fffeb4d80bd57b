"""The Label Studio round trip: machine labels out as pre-annotations, corrected labels back as gold.

**Export.** One task per article: the article text, and the model's units as a Label Studio
*prediction*. Every unit, labelled or not, is a region of the text (region label ``unit``) with
per-region choices for the four labels, so an annotator sees the whole article, can add, delete,
move or resize regions, and can tick labels; a unit with no label is a region with no choice and
survives the round trip. The labelling config (XML) that matches the tasks is written beside them.

**Import.** A Label Studio JSON export back into codebook units: offsets into the article text
exactly as the segmenter gives them (Label Studio counts UTF-16 code units, Python code points:
both ways are converted), whitespace an annotator swept into a region trimmed, labels sorted,
units renumbered ``doc_id:0, 1, ...`` in reading order, each validated as a gold unit. A task
whose annotation is malformed or whose annotators disagree is reported as
``file: task N: what is wrong`` and the other tasks are still imported; a task nobody annotated
is skipped (it is not gold yet).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from .errors import InputError
from .schema import LABELS, PredictedUnit, Unit

REGION = "unit"  # the <Labels> control: which spans are units
CHOICES = "labels"  # the per-region <Choices> control: the unit's labels
TEXT = "text"  # the <Text> object


def labeling_config() -> str:
    """Label Studio's labelling interface for argmine tasks."""
    choices = "\n".join(f'    <Choice value="{label}"/>' for label in LABELS)
    return f"""<View>
  <Header value="$doc_id"/>
  <Labels name="{REGION}" toName="{TEXT}" showInline="true">
    <Label value="{REGION}" background="#9ec5fe"/>
  </Labels>
  <Text name="{TEXT}" value="$text" granularity="symbol"/>
  <View visibleWhen="region-selected">
    <Header value="Labels of the selected unit (none ticked: the unit argues none of them)"/>
    <Choices name="{CHOICES}" toName="{TEXT}" perRegion="true" choice="multiple" showInline="true">
{choices}
    </Choices>
  </View>
</View>
"""


# -- offsets: Python counts code points, Label Studio (JavaScript) counts UTF-16 code units ---------


def _utf16_index(text: str) -> np.ndarray | None:
    """UTF-16 offset of every code-point offset 0..len(text), or None when they are equal."""
    wide = np.fromiter((ord(c) > 0xFFFF for c in text), dtype=np.int64, count=len(text))
    if not wide.any():
        return None
    return np.concatenate([[0], np.cumsum(1 + wide)])


def to_utf16(index: np.ndarray | None, offset: int) -> int:
    return offset if index is None else int(index[offset])


def from_utf16(index: np.ndarray | None, offset: int) -> int | None:
    """The code-point offset of a UTF-16 offset; None if it falls inside a surrogate pair."""
    if index is None:
        return offset
    pos = int(np.searchsorted(index, offset))
    return pos if pos < len(index) and index[pos] == offset else None


# -- export -------------------------------------------------------------------------------------------


def confidence(scores: dict[str, float], thresholds: dict[str, float]) -> float:
    """How sure the model is of a unit's label set: 0 when some label sits on its threshold, 1 when
    every probability is at 0 or 1 (the distance to the threshold, over its largest possible value)."""
    return min(abs(scores[lab] - t) / max(t, 1 - t) for lab, t in thresholds.items())


def task(doc_id: str, text: str, units: Sequence[PredictedUnit], thresholds: dict[str, float],
         model_version: str, source: str = "") -> dict:
    """One Label Studio task: the article, and the model's units as a prediction."""
    index = _utf16_index(text)
    result, scores = [], []
    for i, u in enumerate(units):
        value = {"start": to_utf16(index, u.start), "end": to_utf16(index, u.end), "text": u.text}
        score = round(confidence(u.scores, thresholds), 4)
        scores.append(score)
        result.append({"id": f"u{i}", "from_name": REGION, "to_name": TEXT, "type": "labels",
                       "value": {**value, "labels": [REGION]}, "score": score})
        if u.labels:
            result.append({"id": f"u{i}", "from_name": CHOICES, "to_name": TEXT, "type": "choices",
                           "value": {**value, "choices": list(u.labels)}, "score": score})
    overall = float(np.mean(scores)) if scores else 1.0  # per unit (a labelled unit has two result items)
    return {"data": {TEXT: text, "doc_id": doc_id, "source": source},
            "predictions": [{"model_version": model_version, "score": round(overall, 4), "result": result}]}


def write_tasks(tasks: Iterable[dict], out: Path) -> tuple[int, Path]:
    """Writes the tasks (one JSON list) and the labelling config beside them; both atomically."""
    from .schema import atomic_write

    tasks = list(tasks)
    with atomic_write(out) as f:
        json.dump(tasks, f, ensure_ascii=False, indent=1)
    config = out.with_suffix(".config.xml")
    with atomic_write(config) as f:
        f.write(labeling_config())
    return len(tasks), config


# -- import -------------------------------------------------------------------------------------------


class TaskError(ValueError):
    """What is wrong with one task of an export."""


@dataclass
class Imported:
    units: list[Unit] = field(default_factory=list)
    articles: int = 0
    errors: list[str] = field(default_factory=list)  # "file: task N: what is wrong"
    not_annotated: list[str] = field(default_factory=list)  # task ids nobody annotated


def _regions(result: list, text: str, index: np.ndarray | None) -> dict[str, dict]:
    """Region id -> {"span": (start, end), "labels": set} from one annotation's result list."""
    regions: dict[str, dict] = {}
    for item in result:
        if not isinstance(item, dict) or item.get("from_name") not in (REGION, CHOICES):
            continue  # other controls (a comment box, relations) carry nothing for the units
        value, rid = item.get("value"), item.get("id")
        if not isinstance(value, dict) or rid is None or "start" not in value or "end" not in value:
            raise TaskError(f"region {rid!r}: no id or no start/end in its value")
        raw = (value["start"], value["end"])
        ok = all(isinstance(x, int) and not isinstance(x, bool) for x in raw)
        start, end = (from_utf16(index, raw[0]), from_utf16(index, raw[1])) if ok else (None, None)
        if not (start is not None and end is not None and 0 <= start < end <= len(text)):
            raise TaskError(f"region {rid}: span [{value['start']}, {value['end']}) is not inside the article")
        region = regions.setdefault(str(rid), {"span": (start, end), "labels": set(), "is_unit": False})
        if region["span"] != (start, end):
            raise TaskError(f"region {rid}: its unit and its labels have different spans")
        if item["from_name"] == REGION:
            region["is_unit"] = True
        else:
            chosen = value.get("choices", [])
            unknown = [c for c in chosen if c not in LABELS]
            if unknown:
                raise TaskError(f"region {rid}: unknown label {unknown[0]!r}")
            region["labels"].update(chosen)
    return regions


def annotation_units(doc_id: str, text: str, result: list) -> list[Unit]:
    """The codebook units one annotation marks, in reading order."""
    index = _utf16_index(text)
    spans = []
    for rid, region in _regions(result, text, index).items():
        start, end = region["span"]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            raise TaskError(f"region {rid}: holds only whitespace")
        spans.append((start, end, sorted(region["labels"])))
    spans.sort()
    for (s1, e1, _), (s2, e2, _) in pairwise(spans):
        if s2 < e1:
            raise TaskError(f"units [{s1}, {e1}) and [{s2}, {e2}) overlap")
    try:
        return [Unit(doc_id=doc_id, unit_id=f"{doc_id}:{i}", start=s, end=e, text=text[s:e], labels=labels)
                for i, (s, e, labels) in enumerate(spans)]
    except ValidationError as err:
        raise TaskError(err.errors()[0]["msg"]) from None


def task_units(item: dict) -> list[Unit] | None:
    """A task's gold units; None when no annotation was submitted."""
    data = item.get("data") if isinstance(item, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get(TEXT), str) or not data.get("doc_id"):
        raise TaskError("no data.text and data.doc_id (was it exported from an argmine project?)")
    annotations = [a for a in item.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if not annotations:
        return None
    versions = []
    for a in annotations:
        if not isinstance(a.get("result"), list):
            raise TaskError(f"annotation {a.get('id')}: no result list")
        versions.append(annotation_units(str(data["doc_id"]), data[TEXT], a["result"]))
    if any(v != versions[0] for v in versions[1:]):
        ids = ", ".join(str(a.get("id")) for a in annotations)
        raise TaskError(f"its {len(annotations)} annotations ({ids}) disagree; keep one in Label Studio")
    return versions[0]


def import_export(path: Path) -> Imported:
    """Reads a Label Studio JSON export; per-task problems are collected, not raised."""
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read ({err})") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: line {err.lineno}: not JSON ({err.msg}); export the project as JSON") from None
    if not isinstance(tasks, list):
        raise InputError(f"{path}: not a Label Studio JSON export (expected a list of tasks)")
    out, seen = Imported(), {}
    for n, item in enumerate(tasks, 1):
        tid = item.get("id", n) if isinstance(item, dict) else n
        try:
            units = task_units(item)
        except TaskError as err:
            out.errors.append(f"{path}: task {tid}: {err}")
            continue
        if units is None:
            out.not_annotated.append(str(tid))
            continue
        doc_id = item["data"]["doc_id"]
        if doc_id in seen:
            out.errors.append(f"{path}: task {tid}: doc_id {doc_id!r} is also task {seen[doc_id]}")
            continue
        seen[doc_id] = tid
        out.units += units
        out.articles += 1
    return out
