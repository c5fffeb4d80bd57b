"""Validate every gold file: the synthetic training corpus and the real seed articles."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter

import pytest

from conftest import DATA, ROOT
from pipeline.schema import LABELS, read_units
from pipeline.segment import segment_document

SYN = DATA / "synthetic"
GOLD = {"synthetic": (SYN / "units.jsonl", SYN / "raw"), "seeds": (DATA / "seed_units.jsonl", DATA / "seeds")}


@pytest.fixture(scope="module")
def synthetic():
    return read_units(SYN / "units.jsonl")  # schema: every line validated, ids unique


@pytest.mark.parametrize("name", GOLD)
def test_offsets_index_the_raw_articles(name):
    path, raw = GOLD[name]
    texts = {}
    for u in read_units(path):
        text = texts.setdefault(u.doc_id, (raw / f"{u.doc_id}.txt").read_text(encoding="utf-8"))
        assert text[u.start : u.end] == u.text, u.unit_id


@pytest.mark.parametrize("name", GOLD)
def test_resegmenting_each_raw_file_reproduces_its_gold_units(name):
    path, raw = GOLD[name]
    gold = read_units(path)
    for doc_id in dict.fromkeys(u.doc_id for u in gold):
        text = (raw / f"{doc_id}.txt").read_text(encoding="utf-8")
        expected = [(u.unit_id, u.start, u.end) for u in gold if u.doc_id == doc_id]
        assert [(u.unit_id, u.start, u.end) for u in segment_document(doc_id, text)] == expected, doc_id


def test_every_raw_article_has_gold_units_and_a_plausible_length(synthetic):
    docs = {u.doc_id for u in synthetic}
    raw = {p.stem for p in (SYN / "raw").glob("*.txt")}
    assert docs == raw
    assert len(docs) >= 80
    for doc in docs:
        words = sum(len(u.text.split()) for u in synthetic if u.doc_id == doc)
        assert 150 <= words <= 800, (doc, words)


def test_no_unit_text_is_shared_with_the_seed_articles(synthetic):
    seed_texts = {u.text for u in read_units(DATA / "seed_units.jsonl")}
    assert not [u.unit_id for u in synthetic if u.text in seed_texts]


def test_label_minimums_and_the_share_of_units_without_a_label(synthetic):
    counts = Counter(label for u in synthetic for label in u.labels)
    assert len(synthetic) >= 1500
    for label in LABELS:
        assert counts[label] >= 200, label
    none = sum(not u.labels for u in synthetic) / len(synthetic)
    assert 0.30 <= none <= 0.45


def test_near_duplicates_are_under_one_percent(synthetic):
    sys.path.insert(0, str(ROOT / "scripts"))
    from corpus_stats import near_duplicates

    seeds = [u.text for u in read_units(DATA / "seed_units.jsonl")]
    dups = near_duplicates([u.text for u in synthetic], seeds)
    assert len(dups) / len(synthetic) < 0.01, [synthetic[i].unit_id for i in dups]


def test_near_duplicate_detector_finds_a_near_copy():
    sys.path.insert(0, str(ROOT / "scripts"))
    from corpus_stats import near_duplicates

    a = "The county paid four million dollars to hold detainees for ICE last year."
    assert near_duplicates([a, a.replace("four", "five"), "Something else entirely different here."]) == [0, 1]


def test_data_card_counts_match_the_files(synthetic):
    card = (SYN / "README.md").read_text().split("## Counts", 1)[1]
    counts = Counter(label for u in synthetic for label in u.labels)
    expected = {label: counts[label] for label in LABELS}
    expected |= {"units": len(synthetic), "articles": len({u.doc_id for u in synthetic}),
                 "no label": sum(not u.labels for u in synthetic)}
    for key, value in expected.items():
        m = re.search(rf"^\| {re.escape(key)} \| (\d+)", card, flags=re.M)
        assert m and int(m.group(1)) == value, key


def test_gold_labels_are_the_agreed_or_adjudicated_ones(synthetic):
    """units.jsonl = the writers' labels where the blind second pass agrees, the adjudication where not."""
    ann = SYN / "annotation"
    first = {u.unit_id: u for u in read_units(ann / "first_pass.jsonl")}
    second = {u.unit_id: u for u in read_units(ann / "second_pass.jsonl")}
    decided = {row["unit_id"]: sorted(row["labels"])
               for row in map(json.loads, (ann / "adjudication.jsonl").read_text().splitlines())}
    assert set(first) == set(second) == {u.unit_id for u in synthetic}
    disagreements = {uid for uid in first if first[uid].labels != second[uid].labels}
    assert set(decided) == disagreements  # every disagreement decided, nothing else touched
    for u in synthetic:
        assert (first[u.unit_id].start, first[u.unit_id].end) == (u.start, u.end)
        expected = decided[u.unit_id] if u.unit_id in disagreements else first[u.unit_id].labels
        assert u.labels == expected, u.unit_id
