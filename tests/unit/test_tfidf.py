"""The pickle-free tf-idf model scores exactly as the scikit-learn pipeline it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.data import label_matrix, load_units
from pipeline.errors import ModelError
from pipeline.tfidf import TfidfLogit


def test_saved_tfidf_model_reproduces_sklearn_one_vs_rest_and_holds_no_pickle(tmp_path, data_dir):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    units = load_units([data_dir / "seed_units.jsonl"])
    texts, y = [u.text for u in units], label_matrix(units)
    reference = Pipeline([
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, strip_accents="unicode")),
        ("clf", OneVsRestClassifier(LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000,
                                                       random_state=0))),
    ]).fit(texts, y.astype(int))
    model = TfidfLogit.fit(texts, y, C=4.0, ngram_max=2, seed=0)
    model.save(tmp_path, "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]
    loaded = TfidfLogit.load(tmp_path, "m")
    new = ["Taxpayers pay for every detainer hold.", "The county should opt out of Secure Communities."]
    np.testing.assert_allclose(loaded.predict_proba(new), reference.predict_proba(new), atol=1e-6)
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-7)


def test_a_missing_or_foreign_tfidf_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="m.json is missing"):
        TfidfLogit.load(tmp_path, "m")
    (tmp_path / "m.json").write_text('{"format": "something-else"}')
    (tmp_path / "m.safetensors").write_bytes(b"\0" * 16)
    with pytest.raises(ModelError, match="unreadable|not an"):
        TfidfLogit.load(tmp_path, "m")
