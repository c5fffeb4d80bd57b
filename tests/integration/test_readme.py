"""Run the README's commands, as a new user would, in a scratch copy of the project.

Commands that need Docker, a GPU or a long-lived server are covered elsewhere or cannot run here:
`mlflow models serve` by test_serving.py, the Python snippet by test_train_track.py, `argmine ui`
below. Training commands get a tiny encoder and one epoch, so the walk-through takes seconds.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ARGMINE = [sys.executable, "-m", "pipeline"]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = []
    for block in blocks:
        block = block.replace("\\\n", " ")
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("argmine "):
                lines.append(line)
    return lines


def test_readme_lists_the_commands_we_expect():
    names = {shlex.split(c)[1] for c in readme_commands()}
    assert {"label", "export-onnx", "segment", "evaluate-segments", "train", "cv", "evaluate", "ui", "annotate",
            "agreement"} <= names


@pytest.fixture
def project(tmp_path, tiny_encoder, monkeypatch):
    """configs/ and data/ as a fresh clone has them, and a folder of the user's op-eds."""
    for name in ("configs", "data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "my-opeds").mkdir()
    for p in sorted((ROOT / "data/seeds").glob("seed-00[12].txt")):
        shutil.copy(p, tmp_path / "my-opeds" / p.name)
    shutil.copytree(ROOT / "data/seeds", tmp_path / "my-corpus" / "raw")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def run(cmd: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_every_readme_command_runs(project, tiny_encoder):
    fast = ["--set", f"model.encoder={tiny_encoder}", "--set", "train.epochs=1", "--set", "model.max_length=64"]
    commands = [c for c in readme_commands() if "gpu.yaml" not in c and "models/gpu" not in c
                and not c.startswith("argmine ui")]
    # The label examples need a model: train the default one first, as `make demo` would have (the
    # annotation loop's retraining needs its corrections, so it keeps its place).
    trains = [c for c in commands if c.startswith("argmine train") and "gold/" not in c]
    ordered = trains + [c for c in commands if c not in trains]
    for line in ordered:
        args = shlex.split(line)[1:]
        if args[0] in ("train", "cv") and "baseline" not in line:
            args += fast
        if args[0] == "cv":
            args += ["--folds", "2"]
        if args[:2] == ["annotate", "import"] and not (project / args[2]).exists():
            # what Label Studio exports once every task is submitted as pre-labelled (the real
            # application's round trip is test_label_studio.py). The test's op-eds are copies of the
            # seed articles, which configs/default.yaml evaluates on: give them ids of their own, as
            # a user's articles have.
            tasks = json.loads((project / "tasks.json").read_text())
            for i, t in enumerate(tasks, 1):
                t["data"]["doc_id"] = f"mine-{t['data']['doc_id']}"
                t |= {"id": i, "annotations": [{"id": i, "result": t["predictions"][0]["result"]}]}
            (project / args[2]).write_text(json.dumps(tasks))
        result = run(ARGMINE + args, project)
        if "onnx-int8" in args and result.returncode != 0:
            # int8 is shipped only when it agrees with torch; a refusal must say so.
            assert "not shipped" in result.stderr + result.stdout, result.stderr
            continue
        assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    assert (project / "labelled" / "report.html").is_file()
    assert (project / "my-corpus" / "units.jsonl").is_file()


def test_ui_serves_the_runs_table(project):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(ARGMINE + ["ui", "--port", str(port)], cwd=project, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.5)
        else:
            pytest.fail("MLflow UI did not start")
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/#/experiments" in out
