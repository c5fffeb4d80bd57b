"""The label command: outputs, a bad file in the folder, resuming, ONNX backends."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser

import pytest
from conftest import DATA, ROOT
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.schema import LABELS, PredictedUnit, read_units

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tiny_model):
    return tiny_model


@pytest.fixture
def articles(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for p in sorted((DATA / "seeds").glob("*.txt")):
        (folder / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.units, self.external = set(), 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article":
            self.ids.add(a["id"])
        if tag == "span" and "u" in (a.get("class") or "").split():
            self.units += 1
            assert a.get("title")  # scores on hover
        if tag in ("script", "link", "img") and (a.get("src") or a.get("href")):
            self.external.append(a)


def test_label_writes_units_articles_and_a_self_contained_report(tmp_path, model_dir, articles):
    out = tmp_path / "out"
    result = runner.invoke(app, ["label", str(articles), "--model", str(model_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    units = read_units(out / "units.jsonl", PredictedUnit)
    assert {u.doc_id for u in units} == {f"seed-00{i}" for i in range(5)}
    for u in units:
        text = (articles / f"{u.doc_id}.txt").read_text(encoding="utf-8")
        assert text[u.start : u.end] == u.text
        assert list(u.scores) == list(LABELS)
    rows = list(csv.DictReader((out / "articles.csv").open()))
    assert len(rows) == 5
    assert {"n_units", "share_fiscal", "dominant_label", "stance", "stance_balance"} <= set(rows[0])
    assert sum(int(r["n_units"]) for r in rows) == len(units)
    from pipeline.stance import article_stance

    for row in rows:  # the stance is read off the article's own labelled units
        assert row["stance"] == article_stance([u.labels for u in units if u.doc_id == row["doc_id"]])
    page = _Collect()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    assert page.ids == {f"seed-00{i}" for i in range(5)}
    assert page.units == len(units)
    assert page.external == []  # no CDN, no network
    assert (out / "errors.jsonl").read_text() == ""
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def test_a_bad_file_is_reported_and_the_rest_labelled(tmp_path, model_dir, articles):
    (articles / "broken.txt").write_bytes(b"\xff\xfe\x00binary")
    out = tmp_path / "out"
    result = runner.invoke(app, ["label", str(articles), "--model", str(model_dir), "--out", str(out)])
    assert result.exit_code == 1
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == 1 and errors[0]["source"].endswith("broken.txt")
    assert len(list(csv.DictReader((out / "articles.csv").open()))) == 5


def test_resume_after_an_interruption_relabels_nothing_and_duplicates_nothing(tmp_path, model_dir, articles):
    from pipeline.label import label_inputs
    from pipeline.predict import Labeller

    class Flaky(Labeller):
        calls: list[int] = []
        fail_on: int | None = None

        def predict_proba(self, texts, contexts=None):
            Flaky.calls.append(len(texts))
            if len(Flaky.calls) == Flaky.fail_on:
                raise KeyboardInterrupt
            return super().predict_proba(texts, contexts)

    out = tmp_path / "out"
    labeller = Flaky(model_dir)
    Flaky.fail_on = 3  # dies while scoring the third batch
    with pytest.raises(KeyboardInterrupt):
        label_inputs([articles], labeller, out, batch_units=30)  # ~one article per batch
    assert not (out / "units.jsonl").exists()
    # another model must not finish what this one started
    import shutil

    from pipeline.errors import InputError

    other = shutil.copytree(model_dir, tmp_path / "other-model")
    manifest = json.loads((other / "argmine.json").read_text())
    manifest["thresholds"]["fiscal"] = 0.123
    (other / "argmine.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="labelled by another model"):
        label_inputs([articles], Labeller(other), out, resume=True, batch_units=30)
    Flaky.calls.clear()
    Flaky.fail_on = None
    summary = label_inputs([articles], labeller, out, resume=True, batch_units=30)
    assert summary.skipped >= 1 and summary.skipped + summary.articles == 5
    units = read_units(out / "units.jsonl", PredictedUnit)  # also rejects duplicate unit ids
    assert sum(Flaky.calls) == summary.units < len(units)  # only the unfinished articles were scored
    assert {u.doc_id for u in units} == {f"seed-00{i}" for i in range(5)}
    rows = list(csv.DictReader((out / "articles.csv").open()))
    assert sorted(r["doc_id"] for r in rows) == [f"seed-00{i}" for i in range(5)]


def test_onnx_backends_agree_with_torch(tmp_path, model_dir, articles):
    result = runner.invoke(app, ["export-onnx", "--model", str(model_dir), "--gold", str(DATA / "seed_units.jsonl")])
    assert result.exit_code == 0, result.output
    check = json.loads((model_dir / "onnx" / "check.json").read_text())
    assert check["fp32"]["max_abs_prob_diff"] < 1e-4
    assert check["fp32"]["label_set_agreement"] == 1.0
    outputs = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / backend
        result = runner.invoke(app, ["label", str(articles), "--model", str(model_dir), "--out", str(out),
                                     "--backend", backend])
        assert result.exit_code == 0, result.output
        outputs[backend] = [(u.unit_id, u.labels) for u in read_units(out / "units.jsonl", PredictedUnit)]
    assert outputs["onnx"] == outputs["torch"]


def test_unit_rows_for_a_context_model_need_article_and_offset(tmp_path, tiny_encoder, gold_split):
    """The MLflow model's unit mode: a context model places each row by doc_id and start, in any
    row order, and refuses rows it cannot place instead of giving them the wrong neighbour."""
    import pandas as pd

    from pipeline.config import load_config
    from pipeline.data import load_units, split_by_article
    from pipeline.label import label_frame, label_units
    from pipeline.predict import Labeller
    from pipeline.train import train_model

    cfg = load_config(ROOT / "configs/smoke.yaml", {"model.encoder": str(tiny_encoder), "model.context": "previous",
                                                    "output_dir": str(tmp_path / "ctx")})
    tr, dev = split_by_article(load_units([gold_split["train"]]), 0.34, 0)
    labeller = Labeller(train_model(cfg, tr, dev).model_dir, precision="fp32")
    units = dev[:12]
    frame = pd.DataFrame([{"doc_id": u.doc_id, "unit_id": u.unit_id, "start": u.start, "text": u.text}
                          for u in units]).iloc[::-1]  # rows in reverse order
    served = label_frame(labeller, frame).set_index("unit_id")
    expected = {u.unit_id: u.scores for u in label_units(labeller, units)}
    for uid, scores in expected.items():
        assert served.loc[uid, "score_fiscal"] == pytest.approx(scores["fiscal"], abs=1e-5)
    with pytest.raises(ValueError, match="unit rows need start columns"):
        label_frame(labeller, frame.drop(columns=["start"]))


def test_bucket_padding_gives_the_probabilities_of_exact_padding(model_dir):
    """Buckets (the GPU default) pad wider and add empty rows; no unit's scores may move."""
    import numpy as np

    from pipeline.data import load_units
    from pipeline.predict import BUCKET, Labeller

    units = load_units([DATA / "seed_units.jsonl"])
    exact = Labeller(model_dir, device="cpu", precision="fp32", padding="exact", batch_size=16)
    buckets = Labeller(model_dir, device="cpu", precision="fp32", padding="buckets", batch_size=16)
    assert np.allclose(exact.score_units(units), buckets.score_units(units), atol=1e-5)
    lengths = np.array([len(u.text) % 90 + 3 for u in units])
    shapes = {(rows, width) for _, width, rows in buckets._plan(lengths)}
    assert all(width % BUCKET == 0 for _, width in shapes)
    assert len(shapes) <= 2 * len({-(-n // BUCKET) for n in lengths})  # full and last batch per bucket
    planned = np.concatenate([idx for idx, _, _ in buckets._plan(lengths)])
    assert sorted(planned) == list(range(len(units)))


def test_segmentation_workers_change_nothing_but_who_segments(tmp_path, model_dir, articles):
    outs = []
    for workers in ("0", "2"):
        out = tmp_path / f"out-{workers}"
        result = runner.invoke(app, ["label", str(articles), "--model", str(model_dir), "--out", str(out),
                                     "--workers", workers, "--precision", "fp32"])
        assert result.exit_code == 0, result.output
        outs.append((out / "units.jsonl").read_text())
    assert outs[0] == outs[1] and outs[0].count("\n") > 100


def test_annotate_export_keeps_the_articles_the_model_is_least_sure_of(tmp_path, model_dir, articles):
    import numpy as np

    from pipeline.select import select_articles

    labelled = tmp_path / "labelled"
    assert runner.invoke(app, ["label", str(articles), "--model", str(model_dir), "--out", str(labelled),
                               "--precision", "fp32"]).exit_code == 0
    units = read_units(labelled / "units.jsonl", PredictedUnit)
    thresholds = json.loads((model_dir / "argmine.json").read_text())["thresholds"]
    texts = {p.stem: p.read_text(encoding="utf-8") for p in articles.glob("*.txt")}
    expected = select_articles([u.doc_id for u in units], np.array([[u.scores[lab] for lab in LABELS] for u in units]),
                               [thresholds[lab] for lab in LABELS], 2, texts=texts, diversity=0.3)
    out = tmp_path / "tasks.json"
    result = runner.invoke(app, ["annotate", "export", str(articles), "--model", str(model_dir), "--out", str(out),
                                 "--select", "2"])
    assert result.exit_code == 0, result.output
    tasks = json.loads(out.read_text())
    assert [t["data"]["doc_id"] for t in tasks] == [doc for doc, _ in expected]
    assert out.with_suffix(".config.xml").is_file()
    n_regions = sum(r["from_name"] == "unit" for r in tasks[0]["predictions"][0]["result"])
    assert n_regions == sum(u.doc_id == tasks[0]["data"]["doc_id"] for u in units)
