"""Article stance from unit labels, and its scoring against stance labels."""

from __future__ import annotations

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


def test_the_corpus_stance_files_are_complete(data_dir):
    from pipeline.data import doc_ids, load_units

    syn = read_stances(data_dir / "synthetic" / "stance.tsv")
    assert set(syn) == set(doc_ids(load_units([data_dir / "synthetic" / "units.jsonl"])))
    assert set(read_stances(data_dir / "seed_stance.tsv")) == {f"seed-00{i}" for i in range(5)}
