"""The segment and evaluate-segments commands, including every bad input the issue lists."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()
ARTICLE = "Counties Must Control Their Own Jails\n\nThe sheriff spoke first. The board agreed.\n"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_help_lists_the_stages_and_explains_defaults():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("segment", "evaluate-segments"):
        assert command in result.output
    seg = run("segment", "--help")
    assert "units.jsonl" in seg.output and "blingfire" in seg.output


def test_segment_mixed_inputs(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(ARTICLE)
    (tmp_path / "in" / "b.md").write_text("# Sheriffs Must Keep Their Own Counsel\n\nThey did. It worked.\n")
    (tmp_path / "rows.jsonl").write_text(json.dumps({"id": "r1", "text": "One claim. Two claims."}) + "\n")
    (tmp_path / "rows.csv").write_text('doc_id,text\nc1,"First point. Second point."\n')
    out = tmp_path / "units.jsonl"
    result = run("segment", tmp_path / "in", tmp_path / "rows.jsonl", tmp_path / "rows.csv", "--out", out)
    assert result.exit_code == 0, result.output
    units = read(out)
    assert [u["doc_id"] for u in units] == ["a"] * 3 + ["b"] * 3 + ["r1"] * 2 + ["c1"] * 2
    assert units[0]["text"] == "Counties Must Control Their Own Jails"
    assert units[3]["text"] == "Sheriffs Must Keep Their Own Counsel"
    assert all(u["labels"] == [] for u in units)


def test_html_is_reduced_to_its_article_text(tmp_path):
    body = " ".join(f"<p>Sentence number {i} about the county jail and its detainer policy.</p>" for i in range(8))
    html = (
        "<html><head><title>t</title></head><body><nav><a href='/'>Home</a> <a href='/x'>Sections</a></nav>"
        f"<article><h1>Counties Should Decline Detainers</h1>{body}</article>"
        "<footer>Copyright 2015 Example Media</footer></body></html>"
    )
    (tmp_path / "page.html").write_text(html)
    out = tmp_path / "u.jsonl"
    result = run("segment", tmp_path / "page.html", "--out", out)
    assert result.exit_code == 0, result.output
    texts = [u["text"] for u in read(out)]
    assert "Sentence number 0 about the county jail and its detainer policy." in texts
    assert not any("Home" in t or "Copyright" in t or "<" in t for t in texts)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n ", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary file"),
        ("latin1.txt", "Caf\u00e9 owners complained.".encode("latin-1"), "not valid UTF-8"),
        ("bad.jsonl", b'{"id": "x", "text": "fine."}\n{oops\n', "bad.jsonl:2: not valid JSON"),
        ("notext.csv", b"id,body\n1,hello\n", "no text in field 'text'"),
    ],
)
def test_bad_files_are_reported_and_the_rest_is_segmented(tmp_path, name, content, message):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"good{i}.txt").write_text(ARTICLE)
    (folder / name).write_bytes(content)
    out = tmp_path / "u.jsonl"
    result = run("segment", folder, "--out", out)
    assert result.exit_code == 1
    assert message in result.output
    assert name in result.output
    assert {u["doc_id"] for u in read(out)} >= {"good0", "good1", "good2"}


def test_folder_with_nothing_to_read(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.pdf").write_bytes(b"%PDF")
    result = run("segment", tmp_path / "empty", "--out", tmp_path / "u.jsonl")
    assert result.exit_code == 1
    assert "folder holds no" in result.output


def test_missing_input(tmp_path):
    result = run("segment", tmp_path / "nope.txt", "--out", tmp_path / "u.jsonl")
    assert result.exit_code == 1
    assert "no such file or folder" in result.output


def test_duplicate_doc_ids_are_an_error_not_an_overwrite(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "same.txt").write_text("The first article says this.")
    (tmp_path / "y" / "same.txt").write_text("The second article says that.")
    out = tmp_path / "u.jsonl"
    result = run("segment", tmp_path / "x", tmp_path / "y", "--out", out)
    assert result.exit_code == 1
    assert "doc_id 'same' is already used" in result.output
    assert [u["text"] for u in read(out)] == ["The first article says this."]


def test_unknown_splitter_is_rejected(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    result = run("segment", tmp_path / "a.txt", "--splitter", "nltk", "--out", tmp_path / "u.jsonl")
    assert result.exit_code == 1 and "--splitter" in result.output


def test_evaluate_segments_scores_exact_spans_and_lists_mismatches(tmp_path):
    gold = tmp_path / "g.jsonl"
    pred = tmp_path / "p.jsonl"
    rows = [
        {"doc_id": "d", "unit_id": "d:0", "start": 0, "end": 5, "text": "aaaaa", "labels": []},
        {"doc_id": "d", "unit_id": "d:1", "start": 6, "end": 9, "text": "bbb", "labels": []},
    ]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    wrong = {"doc_id": "d", "unit_id": "d:1", "start": 6, "end": 8, "text": "bb", "labels": []}
    pred.write_text(json.dumps(rows[0]) + "\n" + json.dumps(wrong) + "\n")
    result = run("evaluate-segments", "--gold", gold, "--pred", pred, "--json", tmp_path / "s.json")
    assert result.exit_code == 0, result.output
    assert "F1 0.5000" in result.output
    assert "missed" in result.output and "spurious" in result.output
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["tp"] == 1 and scores["fp"] == 1 and scores["fn"] == 1


def test_evaluate_segments_bad_gold_line_is_one_line_error(tmp_path):
    gold = tmp_path / "g.jsonl"
    gold.write_text('{"doc_id": "d"}\n')
    result = run("evaluate-segments", "--gold", gold, "--pred", gold)
    assert result.exit_code == 1
    assert "g.jsonl:1:" in result.output
    assert "Traceback" not in result.output


def test_an_interrupted_command_says_so_and_exits_130(tmp_path, monkeypatch):
    import pipeline.segment

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.segment, "segment_inputs", interrupted)
    (tmp_path / "a.txt").write_text(ARTICLE)
    result = run("segment", tmp_path / "a.txt", "--out", tmp_path / "units.jsonl")
    assert result.exit_code == 130
    assert "interrupted" in result.output and "Aborted" not in result.output


def test_an_output_path_that_is_a_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    (tmp_path / "out").mkdir()
    result = run("segment", tmp_path / "a.txt", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert f"{tmp_path / 'out'}: is a folder" in result.output
    assert "Traceback" not in result.output and list((tmp_path / "out").iterdir()) == []


def test_a_set_override_below_a_plain_value_is_a_one_line_error(root):
    result = run("train", "--config", root / "configs" / "smoke.yaml", "--set", "name.x=1")
    assert result.exit_code == 1
    assert "cannot set name.x: name is not a section" in result.output


def test_table_rows_keep_their_line_numbers_and_line_separators_inside_strings(tmp_path):
    from pipeline.sources import iter_articles

    jsonl = tmp_path / "rows.jsonl"
    rows = [{"id": "a", "text": "One claim.\u2028Two claims."}, {"id": "b", "text": "Third\u0085claim."}]
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "{oops\n", encoding="utf-8")
    items = list(iter_articles([jsonl]))
    assert [getattr(i, "text", None) for i in items[:2]] == [r["text"] for r in rows]
    assert str(items[2]).startswith(f"{jsonl}:3: not valid JSON")
    table = tmp_path / "rows.csv"
    table.write_text('id,text\nc1,"A claim\nover two lines."\nc2,\n', encoding="utf-8")
    items = list(iter_articles([table]))
    assert items[0].source == f"{table}:2" and items[0].text == "A claim\nover two lines."
    assert str(items[1]) == f"{table}:4: empty text in field 'text'"


def test_a_table_that_stops_being_utf8_names_the_line(tmp_path):
    from pipeline.sources import iter_articles

    table = tmp_path / "rows.jsonl"
    rows = [b'{"id": "a%d", "text": "Fine."}\n' % i for i in range(3000)]
    table.write_bytes(b"".join(rows) + b'{"id": "b", "text": "Caf\xe9."}\n{"id": "c", "text": "Last."}\n')
    items = list(iter_articles([table]))
    assert len([i for i in items if hasattr(i, "text")]) == 3001  # every good row, the last one too
    assert str(items[3000]).startswith(f"{table}:3001: not valid UTF-8")
    table = tmp_path / "rows.csv"
    table.write_bytes(b"id,text\nx,Fine.\ny,Caf\xe9.\n")
    items = list(iter_articles([table]))
    # CSV is decoded a block at a time, so the line is approximate and the rest of the file is skipped
    assert any(str(i).startswith(f"{table}:") and "not valid UTF-8 near this line" in str(i) for i in items)
