"""Label Studio tasks out and exports back in, without a server (tests/integration has the real one)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.annotate import import_export, labeling_config, task
from pipeline.cli import app
from pipeline.schema import LABELS, PredictedUnit, read_units

THRESHOLDS = {label: 0.5 for label in LABELS}
TEXT = "Jails hold people on detainers. 😀 Counties pay the bill!\n\nRead more\n"


def predicted(doc_id: str, text: str, spans_labels) -> list[PredictedUnit]:
    return [PredictedUnit(doc_id=doc_id, unit_id=f"{doc_id}:{i}", start=s, end=e, text=text[s:e], labels=labs,
                          scores={lab: (0.9 if lab in labs else 0.1) for lab in LABELS})
            for i, (s, e, labs) in enumerate(spans_labels)]


UNITS = predicted("op-1", TEXT, [(0, 31, ["pro-enforcement"]), (34, 56, ["fiscal"])])


def annotated(tasks: list[dict], edit=lambda result: result) -> list[dict]:
    """What Label Studio exports when an annotator submits the predictions (after ``edit``)."""
    out = []
    for i, t in enumerate(tasks, 1):
        result = json.loads(json.dumps(t["predictions"][0]["result"]))
        out.append({"id": i, "data": t["data"], "annotations": [{"id": 10 + i, "result": edit(result)}],
                    "predictions": t["predictions"]})
    return out


def write(tmp_path, tasks) -> object:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def test_every_unit_is_a_region_and_labels_are_per_region_choices():
    t = task("op-1", TEXT, UNITS, THRESHOLDS, "m (abc)")
    result = t["predictions"][0]["result"]
    regions = [r for r in result if r["from_name"] == "unit"]
    assert len(regions) == 2 and {r["type"] for r in regions} == {"labels"}
    choices = {r["id"]: r["value"]["choices"] for r in result if r["from_name"] == "labels"}
    assert choices == {"u0": ["pro-enforcement"], "u1": ["fiscal"]}
    assert t["predictions"][0]["model_version"] == "m (abc)"
    assert all(0 <= r["score"] <= 1 for r in result)
    config = labeling_config()
    assert 'perRegion="true"' in config and all(f'value="{lab}"' in config for lab in LABELS)


def test_offsets_count_utf16_code_units_as_label_studio_does():
    # the emoji before the second unit is one code point but two UTF-16 code units
    t = task("op-1", TEXT, UNITS, THRESHOLDS, "m")
    second = next(r for r in t["predictions"][0]["result"] if r["id"] == "u1")["value"]
    assert (second["start"], second["end"]) == (35, 57)
    assert TEXT.encode("utf-16-le")[2 * second["start"] : 2 * second["end"]].decode("utf-16-le") == UNITS[1].text


def test_an_unedited_round_trip_gives_back_the_predicted_units(tmp_path):
    unlabeled = predicted("op-2", "No label here. Nor here.", [(0, 14, []), (15, 24, [])])
    tasks = [task("op-1", TEXT, UNITS, THRESHOLDS, "m"), task("op-2", "No label here. Nor here.", unlabeled, THRESHOLDS, "m")]
    out = import_export(write(tmp_path, annotated(tasks)))
    assert out.errors == [] and out.articles == 2
    strip = lambda us: [u.model_dump(exclude={"scores"}) for u in us]
    assert strip(out.units) == strip(UNITS + unlabeled)


def test_edited_labels_and_moved_regions_come_back_as_edited(tmp_path):
    def edit(result):
        for r in result:
            if r["id"] == "u0":  # shrink the first unit to its first two words (with a stray space)
                r["value"].update(start=0, end=11, text=TEXT[0:11])
            if r["id"] == "u1" and r["from_name"] == "labels":
                r["value"]["choices"] = ["federalism", "fiscal"]
        return result

    out = import_export(write(tmp_path, annotated([task("op-1", TEXT, UNITS, THRESHOLDS, "m")], edit)))
    first, second = out.units
    assert (first.start, first.end, first.text) == (0, 10, "Jails hold")  # trailing space trimmed
    assert first.labels == ["pro-enforcement"]
    assert second.labels == ["federalism", "fiscal"] and second.text == UNITS[1].text


@pytest.mark.parametrize("edit, message", [
    (lambda r: r + [{**r[0], "id": "x", "value": {**r[0]["value"], "start": 5, "end": 20}}], "overlap"),
    (lambda r: [{**x, "value": {**x["value"], "choices": ["costs"]}} if x["from_name"] == "labels" else x for x in r],
     "unknown label 'costs'"),
    (lambda r: [{**r[0], "value": {**r[0]["value"], "end": 999}}], "not inside the article"),
    (lambda r: [{**r[0], "value": {"labels": ["unit"]}}], "no id or no start/end"),
])
def test_a_bad_task_is_named_and_the_others_are_still_imported(tmp_path, edit, message):
    good = annotated([task("op-2", "Fine text here.", predicted("op-2", "Fine text here.", [(0, 15, [])]), THRESHOLDS, "m")])
    bad = annotated([task("op-1", TEXT, UNITS, THRESHOLDS, "m")], edit)
    bad[0]["id"] = 7
    path = write(tmp_path, bad + good)
    out = import_export(path)
    assert [u.doc_id for u in out.units] == ["op-2"]
    assert len(out.errors) == 1 and out.errors[0].startswith(f"{path}: task 7: ") and message in out.errors[0]


def test_disagreeing_annotators_are_a_conflict_and_unannotated_tasks_are_skipped(tmp_path):
    tasks = annotated([task("op-1", TEXT, UNITS, THRESHOLDS, "m")])
    other = json.loads(json.dumps(tasks[0]["annotations"][0]))
    other["result"] = [r for r in other["result"] if r["from_name"] == "unit"]  # no labels at all
    tasks[0]["annotations"].append(other)
    tasks.append({"id": 2, "data": {"text": "Open.", "doc_id": "op-3"}, "annotations": []})
    out = import_export(write(tmp_path, tasks))
    assert out.units == [] and "disagree" in out.errors[0] and out.not_annotated == ["2"]


def test_import_cli_writes_valid_gold_and_exits_1_on_a_bad_task(tmp_path):
    tasks = annotated([task("op-1", TEXT, UNITS, THRESHOLDS, "m")]) + [{"id": 9, "data": {"text": "x"}}]
    gold = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(app, ["annotate", "import", str(write(tmp_path, tasks)), "--out", str(gold)])
    assert result.exit_code == 1 and "task 9" in result.output
    assert [u.text for u in read_units(gold)] == [u.text for u in UNITS]


def test_import_cli_names_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[{"id": 1,\n oops]')
    gold = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(app, ["annotate", "import", str(path), "--out", str(gold)])
    assert result.exit_code == 1 and f"{path}: line 2" in result.output and not gold.exists()


def test_the_prediction_score_is_the_mean_confidence_of_the_units():
    unsure = predicted("op-1", TEXT, [(0, 31, [])])[0].model_copy(update={"scores": {lab: 0.5 for lab in LABELS}})
    t = task("op-1", TEXT, [UNITS[1], unsure.model_copy(update={"start": 0, "end": 31})], THRESHOLDS, "m")
    # UNITS[1] is sure (0.8 of the room on every label), the other on every threshold (0)
    assert t["predictions"][0]["score"] == pytest.approx(0.4)
