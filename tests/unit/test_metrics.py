from __future__ import annotations

import numpy as np
import pytest

from pipeline.data import article_folds, split_by_article
from pipeline.metrics import average_precision, best_thresholds, expected_calibration_error, multilabel_metrics
from pipeline.schema import Unit
from pipeline.train import pos_weights


def test_per_label_and_aggregate_metrics_on_hand_made_arrays():
    y = np.array([[1, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    p = np.array([[0.9, 0.1, 0.1, 0.2], [0.2, 0.1, 0.1, 0.1], [0.1, 0.8, 0.7, 0.1], [0.1, 0.1, 0.1, 0.1]])
    m = multilabel_metrics(y, p, 0.5)
    assert m["pro-enforcement_precision"] == 1.0 and m["pro-enforcement_recall"] == 0.5
    assert m["pro-enforcement_f1"] == pytest.approx(2 / 3)
    assert m["civil-liberties_f1"] == 1.0
    assert m["fiscal_precision"] == 0.0 and m["fiscal_support"] == 0
    assert m["federalism_recall"] == 0.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 + 0 + 0) / 4)
    # micro: tp=2 (pro row0, civ row2), fp=1 (fiscal row2), fn=2 (pro row1, fed row0)
    assert m["micro_precision"] == pytest.approx(2 / 3) and m["micro_recall"] == pytest.approx(0.5)
    assert m["exact_match"] == pytest.approx(0.25)  # only the all-empty row is exactly right
    # average precision ranks, whatever the threshold: federalism's one unit is ranked first (AP 1)
    # though its F1 at 0.5 is 0; fiscal has no gold units (AP 0, as F1)
    assert [m[f"{lab}_ap"] for lab in ("pro-enforcement", "civil-liberties", "fiscal", "federalism")] == [1, 1, 0, 1]
    assert m["macro_ap"] == pytest.approx(0.75)


def test_average_precision_by_hand_with_ties_and_against_scikit_learn():
    from sklearn.metrics import average_precision_score

    # ranks 1 and 3 are positives: 1/2 * 1 + 1/2 * 2/3
    assert average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(5 / 6)
    assert average_precision([1, 0], [0.5, 0.5]) == pytest.approx(0.5)  # a tie is one threshold
    assert average_precision([0, 0], [0.5, 0.4]) == 0.0
    rng = np.random.default_rng(0)
    for _ in range(50):
        y, s = rng.integers(0, 2, 40), np.round(rng.random(40), 1)  # rounded: many ties
        y[0] = 1
        assert average_precision(y, s) == pytest.approx(average_precision_score(y, s))


def test_per_row_thresholds_decide_each_unit():
    y = np.array([[1, 0, 0, 0], [1, 0, 0, 0]])
    p = np.array([[0.4, 0, 0, 0], [0.4, 0, 0, 0]])
    thr = np.array([[0.3, 0.5, 0.5, 0.5], [0.6, 0.5, 0.5, 0.5]])
    assert multilabel_metrics(y, p, thr)["pro-enforcement_recall"] == 0.5


def test_ece_is_zero_when_confidence_matches_frequency_and_large_when_not():
    y = np.array([1, 0] * 50)
    assert expected_calibration_error(y, np.full(100, 0.5)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.95)) == pytest.approx(0.45)


def test_best_thresholds_find_the_separating_point_and_keep_default_without_positives():
    y = np.array([[1, 0], [1, 0], [0, 0], [0, 0]])
    p = np.array([[0.3, 0.9], [0.25, 0.9], [0.2, 0.1], [0.1, 0.1]])
    t = best_thresholds(y, p)
    assert 0.2 < t[0] <= 0.25
    assert t[1] == 0.5


def test_pos_weights_are_neg_over_pos_clipped():
    y = np.array([[1, 1, 0, 0]] + [[0, 1, 0, 0]] * 19)
    assert pos_weights(y, cap=8.0).tolist() == [8.0, 1.0, 8.0, 8.0]


def _units(docs):
    return [Unit(doc_id=d, unit_id=f"{d}:{i}", start=0, end=1, text="x") for d in docs for i in range(3)]


def test_dev_split_never_cuts_an_article_and_is_deterministic():
    units = _units([f"d{i}" for i in range(20)])
    train, dev = split_by_article(units, 0.2, seed=1)
    assert {u.doc_id for u in train}.isdisjoint({u.doc_id for u in dev})
    assert len({u.doc_id for u in dev}) == 4
    assert split_by_article(units, 0.2, seed=1) == (train, dev)


def test_article_folds_partition_the_articles():
    folds = article_folds(_units(["a", "b", "c", "d", "e"]), k=2)
    assert sorted(d for f in folds for d in f) == ["a", "b", "c", "d", "e"]
    assert article_folds(_units(["a", "b", "c"])) == [["a"], ["b"], ["c"]]


def test_fold_summary_skips_labels_a_fold_has_no_gold_units_for():
    from pipeline.cv import summarise

    def fold(f1s, supports):
        m = {}
        for lab, f, n in zip(("pro-enforcement", "civil-liberties", "fiscal", "federalism"), f1s, supports):
            m |= {f"{lab}_f1": f, f"{lab}_precision": f, f"{lab}_recall": f, f"{lab}_support": n}
        return m | {"macro_f1": sum(f1s) / 4, "macro_precision": 0.0, "macro_recall": 0.0}

    mean, std = summarise([fold([0.8, 0.6, 0.0, 1.0], [2, 3, 0, 5]), fold([0.6, 0.4, 0.5, 1.0], [1, 1, 2, 3])])
    assert mean["fiscal_f1"] == 0.5  # the fold without fiscal units does not count as F1 = 0
    assert mean["macro_f1"] == pytest.approx(((0.8 + 0.6 + 1.0) / 3 + (0.6 + 0.4 + 0.5 + 1.0) / 4) / 2)
    assert std["federalism_f1"] == 0.0


def test_the_champion_is_judged_on_its_tag_or_its_final_value_not_the_last_step():
    from types import SimpleNamespace as NS

    from pipeline.tracking import _judged_value

    history = [NS(step=0, value=0.745), NS(step=6, value=0.707)]  # final value, then an epoch's
    client = NS(get_metric_history=lambda run_id, metric: history)
    assert _judged_value(client, NS(tags={"dev_macro_f1": "0.75"}, run_id="r"), "dev_macro_f1") == 0.75
    assert _judged_value(client, NS(tags={}, run_id="r"), "dev_macro_f1") == 0.745
    assert _judged_value(NS(get_metric_history=lambda r, m: []), NS(tags={}, run_id="r"), "x") is None


def test_metric_names_are_defined_once_and_match_what_is_computed():
    from pipeline.metrics import METRIC_NAMES

    y = np.array([[1, 0, 1, 0], [0, 1, 0, 0]])
    assert set(multilabel_metrics(y, y * 0.9)) == set(METRIC_NAMES)
