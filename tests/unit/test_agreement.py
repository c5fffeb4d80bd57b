"""Inter-annotator agreement: kappa and alpha against hand-computed cases, pairing, the agreement command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.agreement import agreement, cohen_kappa, disagreements, krippendorff_alpha, pair_units
from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.schema import PredictedUnit, Unit, write_units

TEXTS = ["Deport them.", "Costs rise.", "Local choice.", "Nothing here."]


def units(label_sets, doc="d", ids="{doc}:{i}"):
    out, pos = [], 0
    for i, (text, labels) in enumerate(zip(TEXTS, label_sets)):
        out.append(Unit(doc_id=doc, unit_id=ids.format(doc=doc, i=i), start=pos, end=pos + len(text),
                        text=text, labels=sorted(labels)))
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


def test_alpha_matches_hand_computation():
    # The kappa case above. Coincidences (each unit's pair counted both ways): o11 = 2*2 = 4,
    # o00 = 2*6 = 12, o10 = o01 = 1 + 1 = 2; n1 = 6, n0 = 14, n = 20.
    # D_o = (o10 + o01) / n = 4/20; D_e = 2 * n1 * n0 / (n (n - 1)) = 168/380; alpha = 1 - 76/168 = 23/42.
    a = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    b = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    assert krippendorff_alpha(a, b) == pytest.approx(23 / 42)
    # Unequal marginals: units (1,1), (1,0), (0,0), (0,0). o11 = 2, o10 = o01 = 1, o00 = 4; n1 = 3, n0 = 5,
    # n = 8. D_o = 2/8, D_e = 2*3*5/(8*7) = 30/56, alpha = 1 - 14/30 = 8/15 (kappa: (0.75 - 0.5)/0.5 = 0.5).
    assert krippendorff_alpha([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(8 / 15)
    assert krippendorff_alpha(a, a) == pytest.approx(1.0)
    assert krippendorff_alpha(a, 1 - a) < 0
    assert math.isnan(krippendorff_alpha(np.ones(4), np.ones(4)))  # D_e = 0: undefined, like kappa


def test_alpha_is_close_to_kappa_on_large_balanced_samples():
    rng = np.random.default_rng(0)
    a = rng.random(20_000) < 0.5
    b = np.where(rng.random(20_000) < 0.2, ~a, a)  # B flips 20% of A's decisions
    kappa, alpha = cohen_kappa(a, b), krippendorff_alpha(a, b)
    assert kappa == pytest.approx(0.6, abs=0.02)
    assert alpha == pytest.approx(kappa, abs=1e-3)  # only the small-sample correction (and marginals) differ


def test_agreement_and_disagreements():
    a = units([["pro-enforcement"], ["fiscal"], ["federalism"], []])
    b = units([["pro-enforcement"], ["fiscal", "federalism"], [], []])
    pairs = pair_units(a, b)
    result = agreement(pairs)
    assert result.exact == pytest.approx(0.5)
    assert result.per_label["pro-enforcement"]["kappa"] == pytest.approx(1.0)
    assert result.per_label["federalism"]["observed"] == pytest.approx(0.5)
    assert math.isnan(result.per_label["civil-liberties"]["kappa"])  # nobody used it
    assert math.isnan(result.per_label["civil-liberties"]["alpha"])
    assert result.per_label["pro-enforcement"]["alpha"] == pytest.approx(1.0)
    alphas = [result.per_label[k]["alpha"] for k in ("pro-enforcement", "fiscal", "federalism")]
    assert result.macro_alpha == pytest.approx(np.mean(alphas))  # the NaN label is skipped
    assert [u.unit_id for u, _ in disagreements(pairs)] == ["d:1", "d:2"]


def test_units_must_match():
    with pytest.raises(InputError, match="not label the same units"):
        pair_units(units([[]] * 4), units([[]] * 4, doc="e"))


def test_units_pair_by_span_when_ids_differ():
    a = units([["fiscal"], [], ["federalism"], []])
    b = units([["fiscal"], [], [], []], ids="{doc}:seg-{i}")  # a model's own segmentation ids
    pairs = pair_units(a, b)
    assert [(u.unit_id, v.unit_id) for u, v in pairs] == [(f"d:{i}", f"d:seg-{i}") for i in range(4)]
    assert agreement(pairs).per_label["federalism"]["positives_b"] == 0


def test_span_mismatch_names_both_files_counts_and_first_unit():
    a = units([[]] * 4)
    b = units([[]] * 3, ids="{doc}:seg-{i}")  # B lacks the last span
    with pytest.raises(InputError) as err:
        pair_units(a, b, names=("gold.jsonl", "pred.jsonl"))
    assert str(err.value) == ("gold.jsonl and pred.jsonl do not label the same units: 1 only in gold.jsonl "
                              "(first d:3, d [39:52]), 0 only in pred.jsonl")


def test_agreement_command(tmp_path):
    write_units(tmp_path / "a.jsonl", units([["pro-enforcement"], ["fiscal"], ["federalism"], []]))
    write_units(tmp_path / "b.jsonl", units([["pro-enforcement"], ["fiscal"], [], []]))
    result = CliRunner().invoke(app, ["agreement", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"),
                                      "--json", str(tmp_path / "agr.json"),
                                      "--disagreements", str(tmp_path / "dis.jsonl")])
    assert result.exit_code == 0, result.output
    assert "identical label sets 0.750" in result.output
    def strict(name):
        raise ValueError(f"{name} is not JSON")

    figures = json.loads((tmp_path / "agr.json").read_text(), parse_constant=strict)
    assert figures["per_label"]["fiscal"]["kappa"] == pytest.approx(1.0)
    assert figures["per_label"]["civil-liberties"]["kappa"] is None  # nobody used it: undefined, null
    rows = [json.loads(line) for line in (tmp_path / "dis.jsonl").read_text().splitlines()]
    assert rows == [{"unit_id": "d:2", "text": "Local choice.", "labels_a": ["federalism"], "labels_b": []}]


def test_agreement_command_names_the_bad_file(tmp_path):
    write_units(tmp_path / "a.jsonl", units([[]] * 4))
    (tmp_path / "b.jsonl").write_text("{not json\n")
    result = CliRunner().invoke(app, ["agreement", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert result.exit_code != 0
    assert "b.jsonl:1" in result.output


def predictions(label_sets, ids="{doc}:{i}"):
    scores = {"pro-enforcement": 0.9, "civil-liberties": 0.1, "fiscal": 0.2, "federalism": 0.3}
    return [PredictedUnit(**u.model_dump(), scores=scores) for u in units(label_sets, ids=ids)]


def test_agreement_command_reads_a_predictions_file_with_other_ids(tmp_path):
    write_units(tmp_path / "gold.jsonl", units([["pro-enforcement"], ["fiscal"], ["federalism"], []]))
    pred = predictions([["pro-enforcement"], ["fiscal"], [], []], ids="{doc}:s{i}")  # ids differ, spans match
    write_units(tmp_path / "pred.jsonl", pred)
    result = CliRunner().invoke(app, ["agreement", str(tmp_path / "gold.jsonl"), str(tmp_path / "pred.jsonl"),
                                      "--json", str(tmp_path / "agr.json")])
    assert result.exit_code == 0, result.output
    assert "alpha" in result.output and "pred.jsonl" in result.output
    report = json.loads((tmp_path / "agr.json").read_text())
    assert report["per_label"]["fiscal"]["alpha"] == pytest.approx(1.0)
    # federalism: A says yes once, B never: D_o = 2/8 = D_e = 2*7*1/(8*7), so alpha 0;
    # civil-liberties unused (NaN, skipped)
    assert report["macro_alpha"] == pytest.approx((1 + 1 + 0) / 3)


def test_agreement_command_names_the_bad_line_of_a_predictions_file(tmp_path):
    write_units(tmp_path / "a.jsonl", units([[]] * 4))
    rows = [json.loads(u.model_dump_json()) for u in predictions([[]] * 4)]
    rows[1]["scores"]["stance"] = 0.5
    (tmp_path / "pred.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(app, ["agreement", str(tmp_path / "a.jsonl"), str(tmp_path / "pred.jsonl")])
    assert result.exit_code != 0
    assert "pred.jsonl:2: scores" in result.output


@pytest.mark.parametrize("args", [[], ["b.jsonl", "--model", "models/default"]])
def test_agreement_command_needs_exactly_one_second_coder(tmp_path, args):
    write_units(tmp_path / "a.jsonl", units([[]] * 4))
    result = CliRunner().invoke(app, ["agreement", str(tmp_path / "a.jsonl"), *args])
    assert result.exit_code != 0
    assert "exactly one" in result.output and "Traceback" not in result.output
