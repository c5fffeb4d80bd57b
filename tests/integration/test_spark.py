"""spark-label on a real local Spark (local[2], Java 17): the same units, labels and scores as `label`."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import DATA
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.schema import LABELS, PredictedUnit, read_units

try:
    import pyspark  # noqa: F401
except ImportError:  # `make test` installs it (the dev extra): in CI a missing pyspark is a failure
    if os.environ.get("CI"):
        raise
    pytest.skip("spark-label needs pyspark (pip install -e '.[spark]')", allow_module_level=True)
pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture(scope="module")
def spark():
    from pipeline.spark import session

    s = session("local[2]")
    yield s
    s.stop()


@pytest.fixture
def articles(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(DATA / "seeds", folder)
    return folder


def parquet_rows(path):
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def test_spark_label_gives_the_units_labels_and_scores_of_label(tmp_path, spark, tiny_model, articles):
    out = tmp_path / "spark-out"
    result = runner.invoke(app, ["spark-label", str(articles), "--model", str(tiny_model), "--out", str(out),
                                 "--master", "local[2]", "--precision", "fp32", "--partitions", "3"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["articles", "units"]
    assert not list(tmp_path.glob("spark-out.staging-*"))
    local = tmp_path / "local"
    result = runner.invoke(app, ["label", str(articles), "--model", str(tiny_model), "--out", str(local),
                                 "--precision", "fp32"])
    assert result.exit_code == 0, result.output

    expected = {u.unit_id: u for u in read_units(local / "units.jsonl", PredictedUnit)}
    got = {r["unit_id"]: r for r in parquet_rows(out / "units")}
    assert set(got) == set(expected) and len(got) > 100
    for unit_id, u in expected.items():
        row = got[unit_id]
        assert (row["doc_id"], row["start"], row["end"], row["text"], row["labels"]) == (
            u.doc_id, u.start, u.end, u.text, u.labels)
        for label in LABELS:
            assert row[f"score_{label}"] == pytest.approx(u.scores[label], abs=1e-5)

    import csv

    with (local / "articles.csv").open() as f:
        summaries = {r["doc_id"]: r for r in csv.DictReader(f)}
    for row in parquet_rows(out / "articles"):
        want = summaries[row["doc_id"]]
        assert row["error"] is None and row["n_units"] == int(want["n_units"])
        assert row["dominant_label"] == want["dominant_label"] and row["stance"] == want["stance"]
        assert row["share_fiscal"] == pytest.approx(float(want["share_fiscal"]))


def test_a_bad_article_is_an_error_row_and_an_existing_out_is_kept(tmp_path, spark, tiny_model):
    rows = [{"doc_id": "good", "text": (DATA / "seeds" / "seed-001.txt").read_text()},
            {"doc_id": "blank", "text": "   "}]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["spark-label", str(src), "--model", str(tiny_model), "--out", str(out),
                                 "--master", "local[2]"])
    assert result.exit_code == 1 and "2 article(s) could not be labelled" in result.output
    by_id = {r["doc_id"]: r for r in parquet_rows(out / "articles")}
    assert by_id["good"]["error"] is None and by_id["good"]["n_units"] > 10
    assert by_id["blank"]["error"] == "empty text"
    assert by_id[None]["error"] == "not a valid record"
    assert {r["doc_id"] for r in parquet_rows(out / "units")} == {"good"}

    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = runner.invoke(app, ["spark-label", str(src), "--model", str(tiny_model), "--out", str(out)])
    assert result.exit_code == 1 and "exists" in result.output
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_parquet_and_csv_inputs_give_the_same_units(tmp_path, spark, tiny_model, kind):
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = {p.stem: p.read_text() for p in sorted((DATA / "seeds").glob("seed-00[01].txt"))}
    if kind == "parquet":
        src = tmp_path / "in.parquet"
        pq.write_table(pa.table({"id": list(texts), "body": list(texts.values())}), src)
    else:  # multi-line texts in quoted CSV fields
        src = tmp_path / "in.csv"
        with src.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "body"])
            writer.writerows(texts.items())
    out = tmp_path / "out"
    result = runner.invoke(app, ["spark-label", str(src), "--model", str(tiny_model), "--out", str(out),
                                 "--text-field", "body", "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    units = parquet_rows(out / "units")
    assert {r["doc_id"] for r in units} == set(texts)
    for r in units:
        assert texts[r["doc_id"]][r["start"] : r["end"]] == r["text"]
