"""Choose which articles to annotate next: those whose units the model is least sure of, not all alike.

An hour of coding buys a fixed number of *units*, and the model learns most from the units it
would get wrong either way. So each unit gets an uncertainty, each article the mean of its units'
uncertainties, and N articles are picked greedily, trading uncertainty against similarity to the
articles already picked (maximal marginal relevance). Pure numpy; the same inputs always give
the same choice.

**A unit's uncertainty.** For label ``l`` with threshold ``t`` and probability ``p``, the margin
uncertainty is ``1 - |p - t| / (t if p < t else 1 - t)``: 1 on the threshold, falling linearly to
0 at ``p = 0`` below it and at ``p = 1`` above it. Each side is scaled by the room it has, so a
label with a low threshold (say 0.2) is not called unsure of every unit it scores 0.0, as
``1 - |p - t| / max(t, 1 - t)`` would (0.75 there). Given an ensemble's members, their
disagreement is added: ``2 * std`` of the members' probabilities (a probability's standard
deviation is at most 0.5, so this is in [0, 1]). Adding rather than averaging means members that
agree leave the score where the mean probability put it, and disagreement only ever raises it; a
mean probability near the threshold (the model's own doubt) and members that differ (doubt about
the model) are both worth a label. The unit takes the **maximum** over its four labels: one
near coin-flip decision is enough for a gold label to correct the model, and a sum would rank a
unit that is lukewarm on all four labels above one that is a coin flip on one; the usual case is
a unit sure about three labels and unsure about one, and the sum would blur exactly that.

**An article's score** is the **mean** over its units. Coding time grows with the number of
units, so the mean is the uncertainty resolved per unit coded, the quantity an hour of coding
buys; a sum, or the top-k units, would favour long articles merely for having more units (the
largest of many draws is large by chance).

**Diversity.** Articles on one topic in one voice teach the model the same thing twice, so with
``diversity`` = w > 0 the next pick maximises ``(1 - w) * s - w * max cos(article, picked)``,
where ``s`` is the article's score min-max scaled over the pool (so ``w`` means the same whatever
the scores' spread) and ``cos`` is the cosine similarity of the articles' tf-idf vectors (word
unigrams, sublinear tf, smoothed idf, l2 rows) or of rows of a given feature matrix. ``w = 0`` is
pure uncertainty; without texts or features there is nothing to compare and the order is by
score. Ties go to the article that appears first in ``doc_ids``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from .schema import LABELS

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


def _check_probs(name: str, probs: np.ndarray, shape_hint: str) -> None:
    if not np.all(np.isfinite(probs)) or probs.size and (probs.min() < 0.0 or probs.max() > 1.0):
        raise ValueError(f"{name} must be probabilities in [0, 1] ({shape_hint})")


def unit_uncertainty(
    probs: np.ndarray, thresholds: np.ndarray | Sequence[float], member_probs: np.ndarray | None = None
) -> np.ndarray:
    """Each unit's uncertainty (n_units,): the maximum over labels of the threshold margin
    uncertainty, plus ``2 * std`` over ``member_probs`` (members x n_units x labels) if given."""
    p = np.asarray(probs, dtype=np.float64)
    t = np.asarray(thresholds, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(LABELS):
        raise ValueError(f"probs must be n_units x {len(LABELS)} (labels in LABELS order), "
                         f"got shape {p.shape}")
    _check_probs("probs", p, "n_units x labels")
    if t.shape != (len(LABELS),):
        raise ValueError(f"thresholds must hold one value per label ({len(LABELS)},), got shape {t.shape}")
    if not np.all((t > 0.0) & (t < 1.0)):
        raise ValueError(f"thresholds must lie strictly between 0 and 1, got {t.tolist()}")
    room = np.where(p < t, t, 1.0 - t)
    per_label = 1.0 - np.abs(p - t) / room
    if member_probs is not None:
        m = np.asarray(member_probs, dtype=np.float64)
        if m.ndim != 3 or m.shape[1:] != p.shape or m.shape[0] < 1:
            raise ValueError(f"member_probs must be members x n_units x {len(LABELS)} matching probs "
                             f"{p.shape}, got shape {m.shape}")
        _check_probs("member_probs", m, "members x n_units x labels")
        per_label = per_label + 2.0 * m.std(axis=0)
    return per_label.max(axis=1) if len(p) else np.zeros(0)


def article_uncertainty(doc_ids: Sequence[str], unit_scores: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The articles in order of first appearance and the mean of their units' scores."""
    scores = np.asarray(unit_scores, dtype=np.float64)
    if scores.ndim != 1 or len(scores) != len(doc_ids):
        raise ValueError(f"one score per unit: {len(doc_ids)} doc_ids but unit scores of shape "
                         f"{scores.shape}")
    articles = list(dict.fromkeys(doc_ids))
    index = {doc: i for i, doc in enumerate(articles)}
    which = np.fromiter((index[d] for d in doc_ids), dtype=np.int64, count=len(doc_ids))
    sums = np.bincount(which, weights=scores, minlength=len(articles))
    counts = np.bincount(which, minlength=len(articles))
    return articles, sums / counts


def tfidf_similarity(texts: Sequence[str]) -> np.ndarray:
    """Cosine similarity (articles x articles) of the texts' tf-idf vectors: lowercased word
    unigrams of two or more characters, ``1 + log(tf)``, idf ``log((1 + n) / (1 + df)) + 1``."""
    counts = [Counter(_TOKEN.findall(text.lower())) for text in texts]
    df = Counter(term for c in counts for term in c)
    n = len(texts)
    idf = {term: math.log((1 + n) / (1 + d)) + 1.0 for term, d in df.items()}
    # A term in one article only adds to that article's norm, never to a dot product: only terms
    # shared by two or more articles need a column, which keeps the matrix small.
    shared = sorted(term for term, d in df.items() if d > 1)
    col = {term: j for j, term in enumerate(shared)}
    x = np.zeros((n, len(shared)))
    norms = np.zeros(n)
    for i, c in enumerate(counts):
        for term, tf in c.items():
            w = (1.0 + math.log(tf)) * idf[term]
            norms[i] += w * w
            if term in col:
                x[i, col[term]] = w
    norms = np.sqrt(norms)
    x /= np.where(norms > 0, norms, 1.0)[:, None]
    sim = x @ x.T
    np.fill_diagonal(sim, (norms > 0).astype(float))  # the dropped columns count on the diagonal
    return sim


def _feature_similarity(features: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1)
    x = features / np.where(norms > 0, norms, 1.0)[:, None]
    return x @ x.T


def select_articles(
    doc_ids: Sequence[str],
    probs: np.ndarray,
    thresholds: np.ndarray | Sequence[float],
    n: int,
    texts: Mapping[str, str] | None = None,
    member_probs: np.ndarray | None = None,
    diversity: float = 0.3,
    features: np.ndarray | None = None,
) -> list[tuple[str, float]]:
    """The ``n`` articles to annotate next, in the order picked, each with its uncertainty score.

    ``doc_ids``: the article of each unit; ``probs``: n_units x labels (``LABELS`` order; for an
    ensemble, its mean); ``thresholds``: one per label; ``member_probs``: optional members x n_units
    x labels; ``texts``: optional article text by doc_id, or ``features``: optional articles x d
    matrix in order of first appearance in ``doc_ids``, for the diversity term, weighted by
    ``diversity`` in [0, 1]. The score returned is the article's mean unit uncertainty (the
    module docstring says why), not the diversity-adjusted value it was picked by. ``n`` larger
    than the pool returns every article.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must lie in [0, 1], got {diversity}")
    doc_ids = [str(d) for d in doc_ids]
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) != len(doc_ids):
        raise ValueError(f"probs must have one row per unit: {len(doc_ids)} doc_ids, "
                         f"probs of shape {p.shape}")
    if texts is not None and features is not None:
        raise ValueError("give texts or features for diversity, not both")
    articles, scores = article_uncertainty(doc_ids, unit_uncertainty(p, thresholds, member_probs))

    sim = None
    if texts is not None:
        missing = [doc for doc in articles if doc not in texts]
        if missing:
            raise ValueError(f"texts has no text for {len(missing)} article(s), e.g. {missing[0]!r}")
        sim = tfidf_similarity([texts[doc] for doc in articles])
    elif features is not None:
        f = np.asarray(features, dtype=np.float64)
        if f.ndim != 2 or len(f) != len(articles):
            raise ValueError(f"features must be articles x d with {len(articles)} rows, got shape {f.shape}")
        sim = _feature_similarity(f)

    span = float(scores.max() - scores.min()) if len(scores) else 0.0
    scaled = (scores - scores.min()) / span if span > 0 else np.zeros_like(scores)
    w = diversity if sim is not None else 0.0
    redundancy = np.zeros(len(articles))  # max similarity to anything picked so far
    open_ = np.ones(len(articles), dtype=bool)
    picked: list[tuple[str, float]] = []
    for _ in range(min(n, len(articles))):
        value = np.where(open_, (1.0 - w) * scaled - w * redundancy, -np.inf)
        best = int(np.argmax(value))  # first maximum: ties go to the earlier article
        picked.append((articles[best], float(scores[best])))
        open_[best] = False
        if sim is not None:
            redundancy = np.maximum(redundancy, sim[best])
    return picked
