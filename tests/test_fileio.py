from __future__ import annotations

import os
import stat

import pytest

from actionbias.fileio import atomic_open, atomic_path, atomic_write_text, file_mode


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_write_replaces_and_uses_normal_permissions(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert _mode(target) == file_mode()  # not mkstemp's private 0600
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write_text(target, "complete")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write(b"partial")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_path_keeps_the_suffix_for_format_sniffing(tmp_path):
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path
        tmp.write_bytes(b"x")
    assert (tmp_path / "clip.mp4").read_bytes() == b"x"
    with pytest.raises(ValueError):
        atomic_open(tmp_path / "a", "r").__enter__()


def test_jsonl_append_and_read_drop_and_repair_a_truncated_tail(tmp_path):
    from actionbias.fileio import append_jsonl, read_jsonl

    path = tmp_path / "rows.jsonl"
    assert list(read_jsonl(path)) == []  # no file: nothing done yet
    assert append_jsonl(path, [{"id": "a"}, {"id": "é"}]) == 2
    assert append_jsonl(path, []) == 0
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "half')  # a kill mid-write
    assert [row for _, row in read_jsonl(path)] == [{"id": "a"}, {"id": "é"}]
    append_jsonl(path, [{"id": "c"}])
    assert list(read_jsonl(path)) == [(1, {"id": "a"}), (2, {"id": "é"}), (3, {"id": "c"})]
    assert "é" in path.read_text(encoding="utf-8")  # written as UTF-8, not escaped


def test_read_jsonl_refuses_corruption_before_the_last_line(tmp_path):
    from actionbias.errors import BadInputError
    from actionbias.fileio import read_jsonl

    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": 1}\nnot json\n{"id": 2}\n')
    with pytest.raises(BadInputError, match="line 2"):
        list(read_jsonl(path))
    path.write_text('{"id": 1}\n[1, 2]\n')
    with pytest.raises(BadInputError, match="JSON object"):
        list(read_jsonl(path))


def test_file_sha256_matches_hashlib_across_chunks(tmp_path):
    import hashlib

    from actionbias.fileio import file_sha256

    data = bytes(range(256)) * 5000  # > 1 MiB: more than one chunk
    path = tmp_path / "weights.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_atomic_write_json_ends_with_a_newline(tmp_path):
    import json

    from actionbias.fileio import atomic_write_json

    path = tmp_path / "x.json"
    atomic_write_json(path, {"b": 1, "a": [1, 2]}, indent=1, sort_keys=True)
    text = path.read_text()
    assert text == json.dumps({"b": 1, "a": [1, 2]}, indent=1, sort_keys=True) + "\n"


def test_read_jsonl_whole_reads_every_line_and_names_the_bad_one(tmp_path):
    from actionbias.errors import BadInputError
    from actionbias.fileio import read_jsonl_whole

    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": 1}\n\n{"id": "é"}', encoding="utf-8")  # no final newline
    assert list(read_jsonl_whole(path)) == [(1, {"id": 1}), (3, {"id": "é"})]
    path.write_text('{"id": 1}\n{"id": \n')
    with pytest.raises(BadInputError, match=r"rows\.jsonl:line 2: not JSON"):
        list(read_jsonl_whole(path))
    path.write_bytes(b'{"id": 1}\n{"id": "\xff"}\n')
    with pytest.raises(BadInputError, match=r"rows\.jsonl:line 2: not UTF-8"):
        list(read_jsonl_whole(path))
    with pytest.raises(FileNotFoundError):
        list(read_jsonl_whole(tmp_path / "missing.jsonl"))
