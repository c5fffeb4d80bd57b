"""Outputs and model folders follow the user's umask (0644 / 0755 by default), not the private
0600 / 0700 that temporary-file helpers create."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.data import load_units, split_by_article
from pipeline.schema import atomic_write
from pipeline.train import train_model


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda m: os.umask(m)
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_follows_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    with atomic_write(tmp_path / "units.jsonl") as f:
        f.write("{}\n")
    assert mode(tmp_path / "units.jsonl") == expected


def test_a_model_folder_and_its_files_are_readable_by_others(tmp_path, umask, data_dir):
    units = load_units([data_dir / "seed_units.jsonl"])
    train, dev = split_by_article(units, 0.4, seed=0)
    cfg = Config.model_validate({"name": "modes", "model": {"kind": "tfidf"},
                                 "data": {"train": [data_dir / "seed_units.jsonl"]},
                                 "output_dir": tmp_path / "model"})
    result = train_model(cfg, train, dev)
    assert mode(result.model_dir) == 0o755
    files = [p for p in result.model_dir.rglob("*") if p.is_file()]
    assert files and all(mode(p) == 0o644 for p in files), {p.name: oct(mode(p)) for p in files}
