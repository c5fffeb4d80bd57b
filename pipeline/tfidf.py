"""The tf-idf + logistic-regression model (the baseline, and the part blended into a transformer),
stored without pickles.

scikit-learn fits it: word 1-2 grams, sublinear tf, idf, l2-normalised rows, one logistic
regression per label. What is saved is what scoring needs, in two open formats:

- ``<name>.json``: the vectoriser's settings and its vocabulary (term -> column), plus the
  scikit-learn version it was fitted with;
- ``<name>.safetensors``: ``idf`` (columns), ``coef`` (labels x columns) and ``intercept``.

A label's probability is ``sigmoid(x @ coef[label] + intercept[label])`` where ``x`` is the unit's
tf-idf row, exactly what scikit-learn's ``OneVsRestClassifier.predict_proba`` returns for
multi-label targets. Loading rebuilds the vectoriser from the settings and vocabulary (its
tokeniser is scikit-learn's), so no code is ever unpickled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ModelError
from .schema import LABELS, atomic_write

FORMAT = "argmine-tfidf-logit/1"
_SETTINGS = ("ngram_range", "sublinear_tf", "min_df", "strip_accents", "lowercase", "norm", "use_idf",
             "smooth_idf", "token_pattern", "analyzer")


class TfidfLogit:
    """A fitted tf-idf vectoriser and one logistic regression per label, as plain arrays."""

    def __init__(self, settings: dict, vocabulary: dict[str, int], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, labels: Sequence[str] = LABELS, sklearn_version: str = "") -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.settings, self.labels, self.sklearn_version = dict(settings), list(labels), sklearn_version
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        kwargs = {**self.settings, "ngram_range": tuple(self.settings["ngram_range"])}
        self.vectorizer = TfidfVectorizer(**kwargs, vocabulary=vocabulary)
        self.vectorizer.idf_ = np.asarray(idf, dtype=np.float64)

    @classmethod
    def fit(cls, texts: Sequence[str], y: np.ndarray, *, C: float, ngram_max: int, seed: int) -> TfidfLogit:
        import sklearn
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vec = TfidfVectorizer(ngram_range=(1, ngram_max), sublinear_tf=True, min_df=2, strip_accents="unicode")
        x = vec.fit_transform(list(texts))
        coefs, intercepts = [], []
        for j in range(y.shape[1]):  # what OneVsRestClassifier does: one binary model per label
            clf = LogisticRegression(C=C, class_weight="balanced", max_iter=2000, random_state=seed)
            clf.fit(x, y[:, j].astype(int))
            coefs.append(clf.coef_[0])
            intercepts.append(clf.intercept_[0])
        settings = {k: v for k, v in vec.get_params().items() if k in _SETTINGS}
        vocabulary = {term: int(i) for term, i in vec.vocabulary_.items()}
        return cls(settings, vocabulary, vec.idf_, np.stack(coefs), np.asarray(intercepts),
                   sklearn_version=sklearn.__version__)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        x = self.vectorizer.transform(list(texts))
        logits = np.asarray(x @ self.coef.T) + self.intercept
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def save(self, folder: Path, name: str) -> None:
        from safetensors.numpy import save_file

        folder = Path(folder)
        with atomic_write(folder / f"{name}.json") as f:
            json.dump({"format": FORMAT, "labels": self.labels, "sklearn_version": self.sklearn_version,
                       "settings": self.settings, "vocabulary": self.vectorizer.vocabulary_}, f, ensure_ascii=False)
        tmp = folder / f".{name}.safetensors.tmp"
        save_file({"idf": self.vectorizer.idf_.astype(np.float64), "coef": self.coef,
                   "intercept": self.intercept}, str(tmp))
        tmp.replace(folder / f"{name}.safetensors")

    @classmethod
    def load(cls, folder: Path, name: str) -> TfidfLogit:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        meta_path, arrays_path = Path(folder) / f"{name}.json", Path(folder) / f"{name}.safetensors"
        for path in (meta_path, arrays_path):
            if not path.is_file():
                raise ModelError(f"{folder}: {path.name} is missing")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            arrays = load_file(str(arrays_path))
        except (json.JSONDecodeError, SafetensorError, OSError) as err:
            raise ModelError(f"{meta_path}: unreadable tf-idf model ({err})") from None
        if meta.get("format") != FORMAT:
            raise ModelError(f"{meta_path}: not an {FORMAT} file")
        if meta.get("labels") != list(LABELS):
            raise ModelError(f"{meta_path}: labels {meta.get('labels')} do not match the codebook's")
        return cls(meta["settings"], meta["vocabulary"], arrays["idf"], arrays["coef"], arrays["intercept"],
                   meta["labels"], meta.get("sklearn_version", ""))
