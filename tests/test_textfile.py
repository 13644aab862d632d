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


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_spans_read_each_line_once(tmp_path, chunk):
    """Spans cut anywhere (inside a line, a character, a \\r\\n, at a line start) read the
    file whole, each line once, as iter_lines does: a BOM dropped only at offset 0."""
    p = tmp_path / "s.txt"
    text = "\ufeffa b\n\n中文 字\r\n\nnaïve x\r\n\r\nlast"
    p.write_text(text, encoding="utf-8")
    whole = list(iter_lines(p))
    size = p.stat().st_size
    for step in range(1, size + 1):
        got = []
        for start in range(0, size, step):
            got += list(iter_lines(p, chunk_size=chunk, span=(start, min(start + step, size))))
        assert got == whole, step
    assert list(iter_lines(p, span=(0, size))) == whole


def test_span_error_names_the_file_offset(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"ok line\n" * 4 + b"ab\xffcd\n")  # 0xff at offset 34
    with pytest.raises(DataError, match=r"byte 0xff at offset 34\)"):
        list(iter_lines(p, span=(20, 40)))


def test_which_encodings_split_at_newlines():
    from groundup.data.textfile import splits_at_newlines

    assert all(splits_at_newlines(e) for e in ("utf-8", "gb18030", "big5", "latin-1", "ascii"))
    assert not any(splits_at_newlines(e) for e in ("utf-16", "utf-32-le", "iso2022_jp", "hz", "utf-7"))
