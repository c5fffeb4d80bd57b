"""`mlflow models serve` answers POST /invocations with articles in and labelled units out."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from conftest import DATA, smoke_args
from pipeline.cli import app
from pipeline.schema import PredictedUnit, read_units

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stdout.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def test_served_champion_labels_articles_like_the_label_command(tmp_path, tiny_encoder, gold_split, mlflow_store):
    runner = CliRunner()
    result = runner.invoke(app, ["train", *smoke_args(tiny_encoder, gold_split, tmp_path / "model")])
    assert result.exit_code == 0, result.output
    docs = ["seed-001", "seed-004"]
    folder = tmp_path / "in"
    folder.mkdir()
    texts = {}
    for d in docs:
        texts[d] = (DATA / "seeds" / f"{d}.txt").read_text(encoding="utf-8")
        (folder / f"{d}.txt").write_text(texts[d], encoding="utf-8")
    result = runner.invoke(app, ["label", str(folder), "--model", "models:/argmine-smoke@champion",
                                 "--out", str(tmp_path / "offline")])
    assert result.exit_code == 0, result.output
    offline = read_units(tmp_path / "offline" / "units.jsonl", PredictedUnit)

    port = free_port()
    # mlflow execs `uvicorn` by name: the environment's bin folder must be on PATH (as when activated)
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/argmine-smoke@champion",
         "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", proc)
        body = json.dumps({"dataframe_records": [{"doc_id": d, "text": texts[d]} for d in docs]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as r:
            served = json.loads(r.read())["predictions"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    assert [(u["unit_id"], u["start"], u["end"], u["labels"]) for u in served] == [
        (u.unit_id, u.start, u.end, u.labels) for u in offline
    ]
    for u, o in zip(served, offline):
        assert u["score_fiscal"] == pytest.approx(o.scores["fiscal"], abs=1e-5)
