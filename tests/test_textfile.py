from __future__ import annotations

import gzip

import pytest

from groundup.data.textfile import iter_lines
from groundup.errors import DataError


def test_lines_streamed_across_chunks(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("a b\n中文 字\r\nlast", encoding="utf-8")
    assert list(iter_lines(p, chunk_size=3)) == ["a b", "中文 字", "last"]


def test_gz(tmp_path):
    p = tmp_path / "t.txt.gz"
    p.write_bytes(gzip.compress("x y\nz\n".encode()))
    assert list(iter_lines(p)) == ["x y", "z"]


@pytest.mark.parametrize("chunk", [1, 2, 5, 1 << 20])
def test_bad_utf8_names_offset(tmp_path, chunk):
    p = tmp_path / "bad.txt"
    p.write_bytes("héllo\n".encode() + b"ab\xffcd\n")  # 'héllo\n' is 7 bytes, so 0xff is at 9
    with pytest.raises(DataError, match=r"not valid UTF-8 \(byte 0xff at offset 9\)"):
        list(iter_lines(p, chunk_size=chunk))


@pytest.mark.parametrize("content,msg", [(b"", "file is empty"), (b"ab\x00cd", "looks binary")])
def test_empty_and_binary(tmp_path, content, msg):
    p = tmp_path / "f.txt"
    p.write_bytes(content)
    with pytest.raises(DataError, match=msg):
        list(iter_lines(p))


def test_missing_and_directory(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        list(iter_lines(tmp_path / "nope.txt"))
    with pytest.raises(DataError, match="is a directory"):
        list(iter_lines(tmp_path))
