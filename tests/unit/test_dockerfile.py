"""What can be checked of the Dockerfile without a Docker engine."""

from __future__ import annotations

import json
import re

from conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [line.strip() for line in DOCKERFILE.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _args(keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in INSTRUCTIONS if line.split(None, 1)[0] == keyword]


def test_base_image_is_a_slim_python_matching_the_package():
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in INSTRUCTIONS
    assert _args("FROM") == ["${PYTHON_IMAGE}"]


def test_torch_is_pinned_and_cpu_by_default():
    assert "ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu" in INSTRUCTIONS
    assert "torch==2.13.0" in DOCKERFILE
    assert re.search(r"torch==([\d.]+)", (ROOT / "pyproject.toml").read_text()).group(1) == "2.13.0"


def test_runs_as_a_non_root_user():
    users = _args("USER")
    assert users and users[-1] not in ("root", "0")
    assert f"useradd --create-home --uid 1000 {users[-1]}" in DOCKERFILE


def test_entrypoint_is_the_cli_and_the_default_command_is_the_main_job():
    assert json.loads(_args("ENTRYPOINT")[0]) == ["argmine"]
    cmd = json.loads(_args("CMD")[0])
    assert cmd[0] == "demo" and (ROOT / cmd[cmd.index("--config") + 1]).is_file()
    from pipeline.cli import app

    assert "demo" in {c.name or c.callback.__name__ for c in app.registered_commands}
    assert "argmine = \"pipeline.cli:main\"" in (ROOT / "pyproject.toml").read_text()


def test_every_copied_path_exists():
    for args in _args("COPY"):
        *sources, _dest = args.split()
        for src in sources:
            assert (ROOT / src).exists(), src


def test_offline_and_tracking_store_are_set():
    assert "HF_HUB_OFFLINE=1" in DOCKERFILE
    assert "MLFLOW_TRACKING_URI=sqlite:////app/tracking/mlflow.db" in DOCKERFILE
