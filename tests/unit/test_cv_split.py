"""Which units train, calibrate and score in each cross-validation fold."""

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.cv import fold_split
from pipeline.errors import ConfigError
from pipeline.schema import Unit


def _units(prefix: str, n_docs: int, per_doc: int = 3) -> list[Unit]:
    return [Unit(doc_id=f"{prefix}-{d}", unit_id=f"{prefix}-{d}:{i}", start=i * 10, end=i * 10 + 5,
                 text="Text.", labels=[]) for d in range(n_docs) for i in range(per_doc)]


def _config(tmp_path: Path, dev_from: str):
    path = tmp_path / "c.yaml"
    for name in ("train.jsonl", "eval.jsonl"):
        (tmp_path / name).touch()
    path.write_text(f"name: t\ndata:\n  train: [train.jsonl]\n  eval: eval.jsonl\n  dev_from: {dev_from}\n")
    return load_config(path)


@pytest.mark.parametrize("dev_from", ["train", "eval"])
def test_fold_never_splits_an_article_and_keeps_test_articles_out(tmp_path, dev_from):
    train, ev = _units("syn", 20), _units("seed", 4)
    tr, dev, test = fold_split(_config(tmp_path, dev_from), train, ev, ["seed-1"])
    docs = [{u.doc_id for u in part} for part in (tr, dev, test)]
    assert docs[2] == {"seed-1"}
    assert not (docs[0] & docs[1]) and not (docs[0] & docs[2]) and not (docs[1] & docs[2])
    assert len(tr) + len(dev) + len(test) == len(train) + len(ev)
    if dev_from == "eval":  # real articles calibrate, the whole training corpus trains
        assert docs[1] == {"seed-0", "seed-2", "seed-3"} and docs[0] == {u.doc_id for u in train}
    else:  # a random share of the training side, which may mix corpus and real articles
        assert docs[1] and docs[1] <= {u.doc_id for u in train + ev} - {"seed-1"}


def test_eval_repeat_copies_only_the_real_articles_on_the_training_side(tmp_path):
    train, ev = _units("syn", 20), _units("seed", 6)
    cfg = _config(tmp_path, "train")
    once, dev, test = fold_split(cfg, train, ev, ["seed-1"])
    cfg.data.eval_repeat = 3
    tr, dev3, test3 = fold_split(cfg, train, ev, ["seed-1"])
    assert (dev3, test3) == (dev, test)  # copies are made after the dev split
    real = [u for u in once if u.doc_id.startswith("seed-")]
    assert real, "the split left no real article on the training side"
    assert len(tr) == len(once) + 2 * len(real)
    copied = {u.doc_id.split("#")[0] for u in tr if "#copy" in u.doc_id}
    assert copied == {u.doc_id for u in real}
    dev_test = {u.doc_id for u in dev + test}
    assert not copied & dev_test


def test_dev_from_eval_without_an_eval_file_is_an_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: t\ndata:\n  train: [train.jsonl]\n  dev_from: eval\n")
    with pytest.raises(ConfigError, match="dev_from"):
        load_config(path)
