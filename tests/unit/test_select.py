"""Choosing articles to annotate: uncertainty near the thresholds, per unit coded, with diversity."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.select import article_uncertainty, select_articles, tfidf_similarity, unit_uncertainty

T = np.array([0.5, 0.3, 0.6, 0.4])  # one threshold per label, in LABELS order


def units(doc: str, rows) -> tuple[list[str], np.ndarray]:
    rows = np.asarray(rows, dtype=float).reshape(-1, 4)
    return [doc] * len(rows), rows


def pool(*articles) -> tuple[list[str], np.ndarray]:
    ids, probs = [], []
    for doc, rows in articles:
        i, p = units(doc, rows)
        ids += i
        probs.append(p)
    return ids, np.vstack(probs)


SURE = [0.02, 0.98, 0.01, 0.99]  # far from every threshold
UNSURE = list(T)                  # on every threshold


def test_an_article_at_the_thresholds_is_chosen_before_one_far_from_them():
    ids, probs = pool(("far", [SURE] * 3), ("near", [UNSURE] * 3), ("mid", [[0.3, 0.5, 0.2, 0.7]] * 3))
    picked = select_articles(ids, probs, T, 3, diversity=0.0)
    assert [doc for doc, _ in picked] == ["near", "mid", "far"]
    scores = [s for _, s in picked]
    assert scores[0] == pytest.approx(1.0) and scores[2] < 0.1 and scores[0] > scores[1] > scores[2]


def test_margin_is_scaled_by_the_room_on_each_side_of_the_threshold():
    t = np.array([0.2, 0.5, 0.5, 0.5])
    # p = 0 below a low threshold is as sure as p = 1 above it: both 0, not 0.75 for p = 0
    u = unit_uncertainty(np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.0, 0.0, 0.0]]), t)
    np.testing.assert_allclose(u, [0.0, 0.0, 0.5])


def test_one_coin_flip_label_outweighs_four_lukewarm_ones():
    one_flip = [0.5, 0.98, 0.01, 0.99]
    lukewarm = [0.75, 0.65, 0.8, 0.7]  # a quarter to half of the room from each threshold
    u = unit_uncertainty(np.array([one_flip, lukewarm]), T)
    assert u[0] > u[1]


def test_a_long_article_is_not_favoured_for_its_length():
    # 3 quite unsure units against 30 slightly less unsure ones: a sum would pick the long article
    short_rows = [[0.5, 0.3, 0.6, 0.1]] * 3
    long_rows = [[0.45, 0.01, 0.01, 0.01]] * 30
    ids, probs = pool(("long", long_rows), ("short", short_rows))
    picked = select_articles(ids, probs, T, 2, diversity=0.0)
    assert picked[0][0] == "short"
    # the same units repeated score the same: length alone changes nothing
    ids, probs = pool(("long", short_rows * 10), ("short", short_rows))
    assert [s for _, s in select_articles(ids, probs, T, 2, diversity=0.0)] == pytest.approx([1.0, 1.0])
    _, means = article_uncertainty(ids, unit_uncertainty(probs, T))
    assert means[0] == pytest.approx(means[1])


TEXTS = {
    "a": "The county jail holds detainees for ICE and taxpayers pay for every night of detention.",
    "a-copy": "The county jail holds detainees for ICE, and taxpayers pay for every night of that detention.",
    "b": "Racial profiling by deputies under 287(g) destroys community trust and keeps witnesses silent.",
}


def test_with_diversity_a_near_duplicate_of_a_chosen_article_is_passed_over():
    # scores: a 1.0 > a-copy 0.9 > b 0.7; b comes before a-copy, so no tie can favour a-copy
    ids, probs = pool(("a", [UNSURE] * 2), ("b", [[0.35, 0.05, 0.05, 0.05]] * 2),
                      ("a-copy", [[0.45, 0.05, 0.05, 0.05]] * 2))
    assert [d for d, _ in select_articles(ids, probs, T, 2, diversity=0.0, texts=TEXTS)] == ["a", "a-copy"]
    assert [d for d, _ in select_articles(ids, probs, T, 2, diversity=0.5, texts=TEXTS)] == ["a", "b"]
    # the same with a feature matrix (rows in order of first appearance) instead of texts
    feats = np.array([[1.0, 0.0], [0.0, 1.0], [0.99, 0.05]])
    assert [d for d, _ in select_articles(ids, probs, T, 2, diversity=0.5, features=feats)] == ["a", "b"]


def test_tfidf_similarity_is_a_cosine():
    sim = tfidf_similarity([TEXTS["a"], TEXTS["a-copy"], TEXTS["b"], ""])
    np.testing.assert_allclose(np.diag(sim)[:3], 1.0)
    assert sim[3, 3] == 0.0 and np.allclose(sim, sim.T)
    assert sim[0, 1] > 0.8 and sim[0, 2] < 0.2


def test_member_disagreement_raises_an_article_score():
    ids, probs = pool(("agree", [SURE] * 2), ("disagree", [SURE] * 2))
    members = np.stack([probs, probs, probs])
    members[0, 2:, 2] = 0.6  # one member thinks the "disagree" units might be fiscal
    members[1, 2:, 2] = 0.0
    without = dict(select_articles(ids, probs, T, 2, diversity=0.0))
    with_members = select_articles(ids, probs, T, 2, member_probs=members, diversity=0.0)
    assert with_members[0][0] == "disagree"
    scores = dict(with_members)
    assert scores["agree"] == pytest.approx(without["agree"])  # agreeing members change nothing
    assert scores["disagree"] > without["disagree"] + 0.3


@pytest.mark.parametrize("kwargs, match", [
    ({"probs": np.full((4, 3), 0.5)}, "n_units x 4"),
    ({"probs": np.full((3, 4), 0.5)}, "one row per unit"),
    ({"probs": np.full((4, 4), 1.5)}, r"\[0, 1\]"),
    ({"thresholds": np.full(3, 0.5)}, "one value per label"),
    ({"thresholds": np.array([0.5, 0.5, 1.0, 0.5])}, "strictly between"),
    ({"member_probs": np.full((2, 3, 4), 0.5)}, "members x n_units"),
    ({"member_probs": np.full((4, 4), 0.5)}, "members x n_units"),
    ({"features": np.ones((3, 2))}, "2 rows"),
    ({"texts": {"x": "some text"}}, "no text for 1 article"),
    ({"n": -1}, "non-negative"),
    ({"diversity": 1.5}, "diversity"),
])
def test_bad_inputs_raise_value_errors(kwargs, match):
    args = {"doc_ids": ["x", "x", "y", "y"], "probs": np.full((4, 4), 0.5), "thresholds": T, "n": 1,
            "texts": None} | kwargs
    with pytest.raises(ValueError, match=match):
        select_articles(**args)


def test_n_larger_than_the_pool_returns_every_article_once_and_the_choice_is_deterministic():
    rng = np.random.default_rng(0)
    ids = [f"d{i % 7}" for i in range(40)]
    probs = rng.random((40, 4))
    words = ["ice", "jail", "cost", "county", "rights", "law"]
    texts = {f"d{i}": " ".join(rng.choice(words, 12)) for i in range(7)}
    picked = select_articles(ids, probs, T, 100, texts=texts, diversity=0.3)
    assert sorted(d for d, _ in picked) == sorted(set(ids))
    assert picked == select_articles(ids, probs, T, 100, texts=texts, diversity=0.3)
    assert select_articles(ids, probs, T, 0) == []
    assert select_articles([], np.zeros((0, 4)), T, 3) == []
