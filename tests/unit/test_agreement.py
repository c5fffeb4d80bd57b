"""Inter-annotator agreement: Cohen's kappa against hand-computed cases, and the agreement command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.agreement import agreement, cohen_kappa, disagreements, pair_units
from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.schema import Unit, write_units

TEXTS = ["Deport them.", "Costs rise.", "Local choice.", "Nothing here."]


def units(label_sets, doc="d"):
    out, pos = [], 0
    for i, (text, labels) in enumerate(zip(TEXTS, label_sets)):
        out.append(Unit(doc_id=doc, unit_id=f"{doc}:{i}", start=pos, end=pos + len(text), text=text,
                        labels=sorted(labels)))
        pos += len(text) + 1
    return out


def test_kappa_matches_hand_computation():
    # 2x2 table: both yes 2, A only 1, B only 1, both no 6 -> po 0.8, pe 0.3*0.3+0.7*0.7 = 0.58
    a = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    b = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    assert cohen_kappa(a, b) == pytest.approx((0.8 - 0.58) / (1 - 0.58))
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert cohen_kappa(a, 1 - a) < 0
    assert math.isnan(cohen_kappa(np.zeros(4), np.zeros(4)))  # no variation: undefined, not 1


def test_agreement_and_disagreements():
    a = units([["pro-enforcement"], ["fiscal"], ["federalism"], []])
    b = units([["pro-enforcement"], ["fiscal", "federalism"], [], []])
    pairs = pair_units(a, b)
    result = agreement(pairs)
    assert result.exact == pytest.approx(0.5)
    assert result.per_label["pro-enforcement"]["kappa"] == pytest.approx(1.0)
    assert result.per_label["federalism"]["observed"] == pytest.approx(0.5)
    assert math.isnan(result.per_label["civil-liberties"]["kappa"])  # nobody used it
    assert [u.unit_id for u, _ in disagreements(pairs)] == ["d:1", "d:2"]


def test_units_must_match():
    with pytest.raises(InputError, match="not label the same units"):
        pair_units(units([[]] * 4), units([[]] * 4, doc="e"))


def test_agreement_command(tmp_path):
    write_units(tmp_path / "a.jsonl", units([["pro-enforcement"], ["fiscal"], ["federalism"], []]))
    write_units(tmp_path / "b.jsonl", units([["pro-enforcement"], ["fiscal"], [], []]))
    result = CliRunner().invoke(app, ["agreement", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"),
                                      "--json", str(tmp_path / "agr.json"),
                                      "--disagreements", str(tmp_path / "dis.jsonl")])
    assert result.exit_code == 0, result.output
    assert "identical label sets 0.750" in result.output
    assert json.loads((tmp_path / "agr.json").read_text())["per_label"]["fiscal"]["kappa"] == pytest.approx(1.0)
    rows = [json.loads(line) for line in (tmp_path / "dis.jsonl").read_text().splitlines()]
    assert rows == [{"unit_id": "d:2", "text": "Local choice.", "labels_a": ["federalism"], "labels_b": []}]


def test_agreement_command_names_the_bad_file(tmp_path):
    write_units(tmp_path / "a.jsonl", units([[]] * 4))
    (tmp_path / "b.jsonl").write_text("{not json\n")
    result = CliRunner().invoke(app, ["agreement", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert result.exit_code != 0
    assert "b.jsonl:1" in result.output
