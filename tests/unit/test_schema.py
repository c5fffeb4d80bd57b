from __future__ import annotations

import json

import pytest

from pipeline.errors import InputError
from pipeline.schema import LABELS, PredictedUnit, Unit, atomic_write, read_units, write_units


def _unit(**kw) -> dict:
    base = {"doc_id": "a", "unit_id": "a:0", "start": 3, "end": 8, "text": "hello", "labels": ["fiscal"]}
    return {**base, **kw}


def test_round_trip_keeps_every_field(tmp_path):
    units = [Unit(**_unit()), Unit(**_unit(unit_id="a:1", labels=["federalism", "fiscal"]))]
    path = tmp_path / "u.jsonl"
    assert write_units(path, units) == 2
    assert read_units(path) == units
    assert json.loads(path.read_text().splitlines()[0]) == _unit()


def test_predicted_unit_round_trip_orders_scores_by_label(tmp_path):
    scores = {label: 0.5 for label in reversed(LABELS)}
    unit = PredictedUnit(**_unit(), scores=scores)
    path = tmp_path / "p.jsonl"
    write_units(path, [unit])
    back = read_units(path, PredictedUnit)[0]
    assert list(back.scores) == list(LABELS)


@pytest.mark.parametrize(
    "record, message",
    [
        (_unit(labels=["fiscal", "federalism"]), "sorted"),
        (_unit(labels=["fiscal", "fiscal"]), "sorted"),
        (_unit(labels=["economy"]), "labels"),
        (_unit(end=9), "length"),
        (_unit(start=-1), "start"),
        ({k: v for k, v in _unit().items() if k != "doc_id"}, "doc_id"),
        (_unit(extra=1), "extra"),
        (_unit(text=""), "text"),
    ],
)
def test_rejections_name_file_and_line(tmp_path, record, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_unit()) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(InputError, match=rf"bad\.jsonl:2: .*{message}"):
        read_units(path)


def test_malformed_json_and_non_objects_are_rejected(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"doc_id": \n')
    with pytest.raises(InputError, match=r"bad\.jsonl:1: not valid JSON"):
        read_units(path)
    path.write_text("[1, 2]\n")
    with pytest.raises(InputError, match=r"bad\.jsonl:1: expected a JSON object"):
        read_units(path)


def test_duplicate_unit_ids_are_rejected(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(_unit()) + "\n\n" + json.dumps(_unit()) + "\n")
    with pytest.raises(InputError, match=r"dup\.jsonl:3: duplicate unit_id .* \(first on line 1\)"):
        read_units(path)


def test_missing_scores_label_is_rejected():
    with pytest.raises(ValueError, match="scores miss"):
        PredictedUnit(**_unit(), scores={"fiscal": 0.1})


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write("half a fi")
            raise RuntimeError("crash")
    assert path.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_each_unit_gets_its_articles_previous_unit_whatever_the_file_order():
    from pipeline.data import previous_texts

    def u(doc, i, start):
        return Unit(**_unit(doc_id=doc, unit_id=f"{doc}:{i}", start=start, end=start + 2, text=f"{doc}{i}", labels=[]))

    ordered = [u("a", 0, 0), u("a", 1, 10), u("b", 0, 0), u("a", 2, 20), u("b", 1, 10)]
    assert previous_texts(ordered) == ["", "a0", "", "a1", "b0"]
    shuffled = [ordered[i] for i in (4, 3, 0, 2, 1)]
    assert previous_texts(shuffled) == ["b0", "a1", "", "", "a0"]


def test_context_texts_by_mode():
    from pipeline.data import CONTEXT_JOIN, context_texts

    units = [Unit(doc_id=d, unit_id=f"{d}:{i}", start=10 * i, end=10 * i + 2, text=f"{d}{i}")
             for d, n in (("a", 4), ("b", 1)) for i in range(n)]
    shuffled = [units[k] for k in (4, 2, 0, 3, 1)]  # offsets, not file order, give the neighbours
    assert context_texts(units, "none") is None
    assert context_texts(shuffled, "previous") == ["", "a1", "", "a2", "a0"]
    j = CONTEXT_JOIN
    assert context_texts(units, "around") == ["a1", f"a0{j}a2", f"a1{j}a3", "a2", ""]
    assert context_texts(units, "lead") == ["", "a0", f"a0{j}a1", f"a0{j}a2", ""]
