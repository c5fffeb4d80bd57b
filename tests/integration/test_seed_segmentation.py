"""The segmenter against the adjudicated gold units of the five real seed articles."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.schema import read_units
from pipeline.segment_eval import score_spans

pytestmark = pytest.mark.integration


def test_seed_articles_exact_span_f1(tmp_path, data_dir):
    out = tmp_path / "pred.jsonl"
    result = CliRunner().invoke(app, ["segment", str(data_dir / "seeds"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    score = score_spans(read_units(data_dir / "seed_units.jsonl"), read_units(out))
    assert score.f1 >= 0.97, [m for m in score.mismatches]


def test_gold_offsets_index_the_bundled_articles(data_dir):
    for unit in read_units(data_dir / "seed_units.jsonl"):
        text = (data_dir / "seeds" / f"{unit.doc_id}.txt").read_text(encoding="utf-8")
        assert text[unit.start : unit.end] == unit.text
