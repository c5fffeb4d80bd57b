"""The annotation loop against a real Label Studio: export, import into a project through its REST
API, annotate through the API, export, and import back as gold units.

Needs Label Studio in its own virtualenv (`make label-studio-install`; `make test` does it). Off CI
the test is skipped when it is missing; in CI it fails, so a broken install never passes unnoticed.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.request

import pytest
from conftest import DATA
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.schema import PredictedUnit, read_units
from pipeline.studio import DEFAULT_BIN, start, stop, wait_ready

pytestmark = pytest.mark.integration
runner = CliRunner()


class Client:
    """The few Label Studio REST calls the loop needs (token authentication)."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token

    def call(self, method: str, path: str, body=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
        return json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    binary = os.environ.get("ARGMINE_LABEL_STUDIO", str(DEFAULT_BIN))
    if not os.path.exists(binary):
        if os.environ.get("CI"):
            pytest.fail(f"{binary} missing: `make test` installs Label Studio (make label-studio-install)")
        pytest.skip("Label Studio is not installed (make label-studio-install)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, creds, url = start(binary, tmp_path_factory.mktemp("label-studio"), port)
    try:
        wait_ready(url, proc)
        yield Client(url, creds["token"])
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def model_dir(tiny_model):
    return tiny_model


def test_round_trip_through_a_running_label_studio(tmp_path, studio, model_dir):
    # 1. pre-label two articles as tasks, and the units `label` gives the same articles
    articles = [str(DATA / "seeds" / f"seed-00{i}.txt") for i in (0, 1)]
    tasks_file = tmp_path / "tasks.json"
    result = runner.invoke(app, ["annotate", "export", *articles, "--model", str(model_dir), "--out", str(tasks_file)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["label", *articles, "--model", str(model_dir), "--out", str(tmp_path / "labelled"),
                                 "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    predicted = {}
    for u in read_units(tmp_path / "labelled" / "units.jsonl", PredictedUnit):
        predicted.setdefault(u.doc_id, []).append(u.model_dump(exclude={"scores"}))

    # 2. a project with the exported labelling config, and the tasks with their predictions
    config = tasks_file.with_suffix(".config.xml").read_text()
    project = studio.call("POST", "/api/projects", {"title": "argmine round trip", "label_config": config})
    imported = studio.call("POST", f"/api/projects/{project['id']}/import", json.loads(tasks_file.read_text()))
    assert imported["task_count"] == 2 and imported["prediction_count"] == 2
    tasks = studio.call("GET", f"/api/tasks?project={project['id']}&fields=all")
    tasks = {t["data"]["doc_id"]: t for t in (tasks["tasks"] if isinstance(tasks, dict) else tasks)}

    # 3. annotate: seed-000 accepted as predicted; seed-001 with a label changed and a span moved
    def prediction(t):
        pred = t["predictions"][0]
        return pred["result"] if isinstance(pred, dict) else studio.call("GET", f"/api/predictions/{pred}")["result"]

    studio.call("POST", f"/api/tasks/{tasks['seed-000']['id']}/annotations", {"result": prediction(tasks["seed-000"])})
    edited = prediction(tasks["seed-001"])
    units_1 = predicted["seed-001"]
    relabel, move = units_1[2], units_1[3]
    new_labels = ["federalism"] if relabel["labels"] != ["federalism"] else ["civil-liberties"]
    cut = move["text"].rindex(" ", 0, len(move["text"]) - 1)  # the moved unit ends a word earlier
    edited = [r for r in edited if not (r["id"] == "u2" and r["from_name"] == "labels")]
    edited.append({"id": "u2", "from_name": "labels", "to_name": "text", "type": "choices",
                   "value": {"start": relabel["start"], "end": relabel["end"], "text": relabel["text"],
                             "choices": new_labels}})
    for r in edited:
        if r["id"] == "u3":
            r["value"].update(end=move["start"] + cut, text=move["text"][:cut])
    studio.call("POST", f"/api/tasks/{tasks['seed-001']['id']}/annotations", {"result": edited})

    # 4. export from Label Studio, import back as gold units
    export = studio.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON")
    export_file = tmp_path / "export.json"
    export_file.write_text(json.dumps(export))
    gold = tmp_path / "gold.jsonl"
    result = runner.invoke(app, ["annotate", "import", str(export_file), "--out", str(gold)])
    assert result.exit_code == 0, result.output
    back = {}
    for u in read_units(gold):
        back.setdefault(u.doc_id, []).append(u.model_dump())

    assert back["seed-000"] == predicted["seed-000"]  # no edits: exactly the predicted units
    expected = [dict(u) for u in units_1]
    expected[2]["labels"] = new_labels
    expected[3].update(end=move["start"] + cut, text=move["text"][:cut])
    assert back["seed-001"] == expected
