"""Article stance from unit labels, and its scoring against stance labels."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.stance import STANCE_MARGIN, article_stance, read_stances, stance_accuracy, stance_balance

PRO, CIV = ["pro-enforcement"], ["civil-liberties"]


def test_balance_counts_units_with_each_stance_label_and_ignores_the_others():
    assert stance_balance([PRO, PRO, CIV, ["fiscal"], []]) == pytest.approx(1 / 3)
    assert stance_balance([["fiscal", "federalism"], []]) is None
    assert stance_balance([PRO + CIV]) == 0.0  # a unit with both counts on both sides


@pytest.mark.parametrize(("units", "stance"), [
    ([PRO, PRO, PRO, CIV], "pro"),
    ([CIV, CIV, PRO, []], "against"),
    ([PRO, CIV], "mixed"),
    ([["fiscal"], ["federalism"]], "mixed"),  # nothing to go on
    ([PRO] * 3 + [CIV] * 2, "mixed" if 1 / 5 <= STANCE_MARGIN else "pro"),
])
def test_article_stance(units, stance):
    assert article_stance(units) == stance


def test_stance_accuracy_counts_one_sided_articles_and_wrong_signs():
    gold = {"a": "pro", "b": "against", "c": "against", "d": "mixed", "e": "pro"}
    predicted = {"a": "pro", "b": "pro", "c": "mixed", "d": "against"}  # e was not predicted
    acc = stance_accuracy(predicted, gold)
    assert acc["n_one_sided"] == 3 and acc["one_sided_right_n"] == 1 and acc["wrong_sign_n"] == 1
    assert acc["accuracy"] == pytest.approx(1 / 4)


def test_read_stances_checks_its_values(tmp_path):
    path = tmp_path / "stance.tsv"
    path.write_text("doc_id\tstance\nx\tpro\ny\tneutral\n")
    with pytest.raises(InputError, match=r"stance.tsv:3: stance 'neutral'"):
        read_stances(path)
    path.write_text("doc_id\tstance\nx\tpro\n")
    assert read_stances(path) == {"x": "pro"}


@pytest.mark.parametrize(("content", "error"), [
    ("doc_id\tstance\nx\tpro\n\ny\tneutral\n", r"stance.tsv:4: stance 'neutral'"),  # blank lines count
    ("doc\tstance\nx\tpro\n", r"stance.tsv:1: .*missing doc_id"),
    ("doc_id\tstance\nx\tpro\nx\tagainst\n", r"stance.tsv:3: doc_id 'x' appears twice"),
    ("doc_id\tstance\n\tpro\n", r"stance.tsv:2: empty doc_id"),
    ("doc_id\tstance\nx\n", r"stance.tsv:2: stance None"),
    ("doc_id\tstance\n", r"stance.tsv: no stance rows"),
])
def test_read_stances_names_the_line_of_a_bad_row(tmp_path, content, error):
    path = tmp_path / "stance.tsv"
    path.write_text(content)
    with pytest.raises(InputError, match=error):
        read_stances(path)


def test_read_stances_takes_a_byte_order_mark_and_refuses_ids_that_name_no_article(tmp_path):
    path = tmp_path / "stance.tsv"
    path.write_text("\ufeffdoc_id\tstance\tnote\na\tpro\tx\nb\tagainst\t\n", encoding="utf-8")
    assert read_stances(path, known={"a", "b", "c"}) == {"a": "pro", "b": "against"}
    with pytest.raises(InputError, match=r"stance.tsv:3: doc_id 'b' is not an article in units.jsonl"):
        read_stances(path, known={"a", "c"}, known_from="units.jsonl")


def test_score_stance_reads_each_article_s_labels_at_the_model_s_thresholds():
    from pipeline.evaluate import score, score_stance
    from pipeline.schema import LABELS, Unit

    def unit(doc, i):
        return Unit(doc_id=doc, unit_id=f"{doc}-{i}", start=0, end=1, text="x")

    units = [unit("a", 0), unit("a", 1), unit("a", 2), unit("b", 0), unit("b", 1), unit("c", 0)]
    pro, civ = LABELS.index("pro-enforcement"), LABELS.index("civil-liberties")
    probs = np.zeros((len(units), len(LABELS)))
    probs[[0, 1], pro] = 0.6      # a: two pro units at 0.6 and one civil-liberties unit
    probs[2, civ] = 0.9
    probs[[3, 4], civ] = 0.7      # b: against
    probs[5, pro] = 0.55          # c: pro at threshold 0.5, nothing at 0.65
    gold = {"a": "pro", "b": "pro", "c": "against"}
    metrics, rows = score_stance(score(units, probs, np.full(len(LABELS), 0.5)), gold)
    assert [r["predicted"] for r in rows] == ["pro", "against", "pro"]
    assert rows[0]["balance"] == 0.3333  # rounded to 4 places in the TSV
    assert metrics["stance_one_sided_right_n"] == 1 and metrics["stance_wrong_sign_n"] == 2
    # per-unit thresholds (a blend) are read unit by unit: c's unit no longer reaches pro-enforcement
    per_unit = np.full((len(units), len(LABELS)), 0.5)
    per_unit[5] = 0.65
    metrics, rows = score_stance(score(units, probs, per_unit), gold)
    assert rows[2] == {"doc_id": "c", "gold": "against", "predicted": "mixed", "balance": ""}
    assert metrics["stance_wrong_sign_n"] == 1


def test_the_corpus_stance_files_are_complete(data_dir):
    from pipeline.data import doc_ids, load_units

    syn = read_stances(data_dir / "synthetic" / "stance.tsv")
    assert set(syn) == set(doc_ids(load_units([data_dir / "synthetic" / "units.jsonl"])))
    assert set(read_stances(data_dir / "seed_stance.tsv")) == {f"seed-00{i}" for i in range(5)}
