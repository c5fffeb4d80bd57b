"""Gold units as tokenised training rows, their digest, and splits that never cut an article."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .schema import LABELS, Unit, labels_to_vector, read_units


def load_units(paths: Sequence[Path]) -> list[Unit]:
    """Read and validate gold unit files (``file:line`` errors); doc_ids must not repeat across files."""
    units: list[Unit] = []
    owner: dict[str, Path] = {}
    for path in paths:
        for unit in read_units(path):
            if owner.setdefault(unit.doc_id, path) != path:
                from .errors import InputError

                raise InputError(f"{path}: doc_id {unit.doc_id!r} also appears in {owner[unit.doc_id]}")
            units.append(unit)
    return units


def _article_order(units: Sequence[Unit]) -> list[list[int]]:
    """Indices of each article's units in reading order (by offset, whatever the file order)."""
    by_doc: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        by_doc.setdefault(u.doc_id, []).append(i)
    for idx in by_doc.values():
        idx.sort(key=lambda i: (units[i].start, units[i].end))
    return list(by_doc.values())


def previous_texts(units: Sequence[Unit]) -> list[str]:
    """For each unit, the text of the unit before it in the same article ("" for the first), by
    offset: a file whose units are not in reading order still gets each unit's real neighbour."""
    out = [""] * len(units)
    for idx in _article_order(units):
        for before, i in zip(idx, idx[1:]):
            out[i] = units[before].text
    return out


CONTEXT_JOIN = " | "  # between the pieces of a two-piece context; plain text, no model's special token


def context_texts(units: Sequence[Unit], mode: str) -> list[str] | None:
    """The second segment each unit is encoded with, by ``model.context``:

    ``none``: no second segment (None); ``previous``: the unit before it; ``around``: the unit
    before and the unit after it; ``lead``: the unit before it and the article's first unit (its
    headline or opening sentence, where a piece usually states its position).
    """
    if mode == "none":
        return None
    if mode not in ("previous", "around", "lead"):
        raise ValueError(f"unknown context mode {mode!r}")
    out = [""] * len(units)
    for idx in _article_order(units):
        for k, i in enumerate(idx):
            prev = units[idx[k - 1]].text if k > 0 else ""
            if mode == "previous":
                pieces = [prev]
            elif mode == "around":
                pieces = [prev, units[idx[k + 1]].text if k + 1 < len(idx) else ""]
            else:  # the lead first; the second unit already has it as its previous one
                pieces = [units[idx[0]].text if k > 1 else "", prev]
            out[i] = CONTEXT_JOIN.join(p for p in pieces if p)
    return out


def encoded_rows(units: Sequence[Unit], tokenize, context: str = "none") -> list[dict]:
    """One training row per unit: what ``tokenize(texts, contexts)`` returns for it (input ids,
    attention mask, ...) plus its float ``labels`` vector. ``contexts`` are the units' context
    texts for ``context`` (``context_texts``; None for ``none``). A plain list is all the ``Trainer`` needs; no Arrow tables,
    so no on-disk cache that a rewritten file could make stale."""
    units = list(units)
    enc = tokenize([u.text for u in units], context_texts(units, context))
    keys = list(enc.keys())
    return [{**{k: enc[k][i] for k in keys}, "labels": labels_to_vector(u.labels)} for i, u in enumerate(units)]


def label_matrix(units: Sequence[Unit]) -> np.ndarray:
    return np.array([labels_to_vector(u.labels) for u in units], dtype=np.float32).reshape(-1, len(LABELS))


def digest(paths: Sequence[Path]) -> str:
    """sha256 over the bytes of the data files, in order: names what a model was trained on."""
    h = hashlib.sha256()
    for path in paths:
        h.update(Path(path).name.encode() + b"\0")
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def doc_ids(units: Sequence[Unit]) -> list[str]:
    return list(dict.fromkeys(u.doc_id for u in units))


def split_by_article(
    units: Sequence[Unit], dev_fraction: float, seed: int
) -> tuple[list[Unit], list[Unit]]:
    """Hold out a share of whole articles as dev; the rest trains. Deterministic for a seed."""
    docs = sorted(doc_ids(units))
    random.Random(seed).shuffle(docs)
    n_dev = max(1, round(len(docs) * dev_fraction)) if len(docs) > 1 else 0
    dev = set(docs[:n_dev])
    return [u for u in units if u.doc_id not in dev], [u for u in units if u.doc_id in dev]


def article_folds(units: Sequence[Unit], k: int | None = None) -> list[list[str]]:
    """Partition the articles into ``k`` folds (default: one article per fold), in doc_id order."""
    docs = sorted(doc_ids(units))
    k = len(docs) if k is None else k
    if not 2 <= k <= len(docs):
        from .errors import ConfigError

        raise ConfigError(f"cannot make {k} folds from {len(docs)} articles")
    return [docs[i::k] for i in range(k)]
