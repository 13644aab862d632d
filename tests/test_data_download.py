"""Downloads without a network: a local HTTP server (with Range support) and file:// URLs.

Covered: a plain fetch, resume of a partial ``.part`` via HTTP Range (and the request really
carried the Range header), a server that ignores Range, an interrupted transfer that a second
call completes, a checksum mismatch (expected and actual named, nothing left behind), a network
failure as one line, archives with and without path-traversal members, and a whole registered
corpus fetched from a local mirror.
"""
from __future__ import annotations

import hashlib
import http.server
import io
import socket
import socketserver
import tarfile
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from groundup.data import corpora
from groundup.data.download import download, download_corpus, extract
from groundup.errors import DataError

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` (name -> bytes); honours ``Range: bytes=N-`` unless
    ``server.ignore_range``; ``server.truncate_next`` sends only that many bytes of the next
    body while promising the full length, then drops the connection."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        if self.path.startswith("/redirect/"):  # like http -> https or a mirror hop
            self.send_response(302)
            self.send_header("Location", "/" + self.path[len("/redirect/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = srv.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and not srv.ignore_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.truncate_next is not None:
            body, srv.truncate_next = body[: srv.truncate_next], None
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    def server_bind(self):  # skip HTTPServer's reverse-DNS lookup (getfqdn), slow offline
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


@pytest.fixture
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.files = {"data.bin": PAYLOAD}
    srv.requests = []
    srv.ignore_range = False
    srv.truncate_next = None
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def test_plain_download_and_skip_when_present(server, tmp_path):
    dest = tmp_path / "out" / "data.bin"
    assert download(f"{server.url}/data.bin", dest, sha256=SHA, size=len(PAYLOAD), progress=False) == dest
    assert dest.read_bytes() == PAYLOAD
    assert not dest.with_name("data.bin.part").exists()
    n = len(server.requests)
    download(f"{server.url}/data.bin", dest, sha256=SHA, progress=False)  # verified copy: no request
    assert len(server.requests) == n


@pytest.mark.parametrize("cut", [1, 40_000, 65_536, len(PAYLOAD) - 1])
def test_resume_from_partial_file(server, tmp_path, cut):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD[:cut])
    download(f"{server.url}/data.bin", dest, sha256=SHA, progress=True)  # bar off: GROUNDUP_PROGRESS=0
    assert dest.read_bytes() == PAYLOAD
    assert server.requests[-1] == ("/data.bin", f"bytes={cut}-")  # only the rest was asked for


def test_resume_through_a_redirect(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD[:1000])
    download(f"{server.url}/redirect/data.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests[-2:] == [("/redirect/data.bin", "bytes=1000-"), ("/data.bin", "bytes=1000-")]


def test_server_ignoring_range_restarts(server, tmp_path):
    server.ignore_range = True
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(b"garbage that is not a prefix")
    download(f"{server.url}/data.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_gets_416_and_finishes(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD)
    download(f"{server.url}/data.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_interrupted_transfer_then_resume(server, tmp_path):
    dest = tmp_path / "data.bin"
    server.truncate_next = 30_000
    with pytest.raises(DataError, match=r"interrupted.*30,000 of 102,400 bytes.*run again to resume"):
        download(f"{server.url}/data.bin", dest, sha256=SHA, progress=False)
    assert not dest.exists()  # atomic: never a half-written destination
    assert dest.with_name("data.bin.part").stat().st_size == 30_000
    download(f"{server.url}/data.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests[-1][1] == "bytes=30000-"


def test_checksum_mismatch_names_both_and_leaves_nothing(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"old content")  # an existing (wrong) file stays untouched on failure
    bad = "0" * 64
    with pytest.raises(DataError, match=f"sha256 mismatch: expected {bad}, got {SHA}"):
        download(f"{server.url}/data.bin", dest, sha256=bad, progress=False)
    assert dest.read_bytes() == b"old content"
    assert not dest.with_name("data.bin.part").exists()
    with pytest.raises(DataError, match="size mismatch: expected 5 bytes, got 102,400 bytes"):
        download(f"{server.url}/data.bin", tmp_path / "x.bin", size=5, progress=False)


def test_http_error_and_network_failure_are_one_line(server, tmp_path):
    with pytest.raises(DataError, match="HTTP 404") as e:
        download(f"{server.url}/missing.bin", tmp_path / "m.bin", progress=False)
    assert "\n" not in str(e.value)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match=f"download of http://127.0.0.1:{port}/x failed") as e:
        download(f"http://127.0.0.1:{port}/x", tmp_path / "x", progress=False, timeout=5)
    assert "\n" not in str(e.value)


def test_concurrent_download_into_the_same_part_is_refused(server, tmp_path):
    import fcntl

    dest = tmp_path / "data.bin"
    with open(dest.with_name("data.bin.part"), "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # "another process" is downloading
        with pytest.raises(DataError, match="another download into this file is in progress"):
            download(f"{server.url}/data.bin", dest, sha256=SHA, progress=False)
    download(f"{server.url}/data.bin", dest, sha256=SHA, progress=False)  # lock released: works
    assert dest.read_bytes() == PAYLOAD


def test_failed_first_attempt_leaves_no_empty_part(server, tmp_path):
    with pytest.raises(DataError, match="HTTP 404"):
        download(f"{server.url}/missing.bin", tmp_path / "m.bin", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_file_url(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = download(src.as_uri(), tmp_path / "dst" / "out.bin", sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DataError, match="failed"):
        download((tmp_path / "absent").as_uri(), tmp_path / "o2", progress=False)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    return path


def _tar(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as t:
        for n, b in members.items():
            info = tarfile.TarInfo(n)
            info.size = len(b)
            t.addfile(info, io.BytesIO(b))
        if link:
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            t.addfile(info)
    return path


@pytest.mark.parametrize("make", [_zip, _tar])
def test_extract_archives(tmp_path, make):
    arch = make(tmp_path / ("a.zip" if make is _zip else "a.tar.gz"), {"d/x.txt": b"x", "d/y.txt": b"yy"})
    out = tmp_path / "out"
    assert sorted(p.name for p in extract(arch, out)) == ["x.txt", "y.txt"]
    assert (out / "d" / "y.txt").read_bytes() == b"yy"
    got = extract(arch, tmp_path / "sel", members={"d/y.txt": "only.txt"})
    assert got == [(tmp_path / "sel" / "only.txt").resolve()] and got[0].read_bytes() == b"yy"
    with pytest.raises(DataError, match="lacks the expected member"):
        extract(arch, tmp_path / "sel2", members={"nope": "n.txt"})


@pytest.mark.parametrize("make,name", [(_zip, "../evil.txt"), (_zip, "/abs/evil.txt"), (_tar, "a/../../evil.txt")])
def test_extract_refuses_path_traversal(tmp_path, make, name):
    arch = make(tmp_path / ("e.zip" if make is _zip else "e.tar.gz"), {name: b"pwned"})
    with pytest.raises(DataError, match="refusing archive member"):
        extract(arch, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_extract_refuses_links_and_non_archives(tmp_path):
    arch = _tar(tmp_path / "l.tar.gz", {"ok.txt": b"1"}, link="link")
    with pytest.raises(DataError, match="link or special file"):
        extract(arch, tmp_path / "out")
    (tmp_path / "plain.txt").write_text("not an archive")
    with pytest.raises(DataError, match="not a zip or tar archive"):
        extract(tmp_path / "plain.txt", tmp_path / "out2")


def test_download_registered_corpus_from_local_mirror(server, tmp_path, monkeypatch):
    """`groundup data download NAME` end to end, with the registry pointed at the local server:
    per-file URLs (like PTB) and a zip archive (like text8)."""
    files = {"tr.txt": b" a b <unk>\n c\n", "te.txt": b" a\n"}
    server.files.update(files)
    sha = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
    c = corpora.Corpus(
        name="mini", title="mini", license="test", folder="mini",
        files=(corpora.CorpusFile("mini.train.txt", "train", sha["tr.txt"], len(files["tr.txt"]), url=f"{server.url}/tr.txt"),
               corpora.CorpusFile("mini.test.txt", "test", sha["te.txt"], len(files["te.txt"]), url=f"{server.url}/te.txt")))
    reg = dict(corpora._registry())
    reg["mini"] = c
    zbytes = io.BytesIO()
    with zipfile.ZipFile(zbytes, "w") as z:
        z.writestr("inner/text", b"hello world")
    server.files["z.zip"] = zbytes.getvalue()
    z = corpora.Corpus(name="zipped", title="z", license="test", folder="zipped", tokenizer="text8", eos=None,
                       files=(corpora.CorpusFile("text", "train", hashlib.sha256(b"hello world").hexdigest(), 11),),
                       archive=corpora.Archive(f"{server.url}/z.zip", "z.zip",
                                               hashlib.sha256(zbytes.getvalue()).hexdigest(),
                                               len(zbytes.getvalue()), {"inner/text": "text"}))
    reg["zipped"] = z
    # an entry without a checksum is never fetched, even with a size to check
    reg["unverified"] = replace(z, name="unverified", folder="unverified",
                                archive=replace(z.archive, sha256=None))
    reg["nochecks"] = replace(c, name="nochecks", folder="nochecks",
                              files=(replace(c.files[0], sha256=None, bytes=None),))
    monkeypatch.setattr(corpora, "_REGISTRY", reg)
    monkeypatch.setattr(corpora, "shared_data_dir", lambda: None)
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))

    with pytest.raises(DataError, match="run 'groundup data download mini'"):
        corpora.resolve("mini")
    folder = download_corpus("mini", progress=False)
    assert folder == tmp_path / "cache" / "data" / "mini"
    assert corpora.resolve("mini", "test").read_bytes() == files["te.txt"]
    assert list(corpora.load_corpus("mini")) == [["a", "b", "<unk>", "<eos>"], ["c", "<eos>"]]
    n = len(server.requests)
    download_corpus("mini", progress=False)  # already verified: nothing fetched
    assert len(server.requests) == n

    n = len(server.requests)
    for name in ("unverified", "nochecks"):
        with pytest.raises(DataError, match="no sha256 is registered .* refusing to download it unverified"):
            download_corpus(name, progress=False)
    assert len(server.requests) == n

    dest = download_corpus("zipped", tmp_path / "elsewhere", progress=False)
    assert (dest / "text").read_bytes() == b"hello world" and not (dest / "z.zip").exists()
    assert list(corpora.load_corpus(dest)) == [["hello", "world", "<eos>"]]  # a user folder: word tokenizer

    # a registry checksum that the mirror does not match is refused
    reg["mini"] = replace(c, folder="mini2", files=(replace(c.files[0], sha256="f" * 64),) + c.files[1:])
    with pytest.raises(DataError, match="sha256 mismatch: expected f{64}"):
        download_corpus("mini", progress=False)
    assert not (tmp_path / "cache" / "data" / "mini2" / "mini.train.txt").exists()


def test_every_registry_entry_carries_a_sha256():
    """Nothing in the registry can be downloaded unverified: every file and archive has one."""
    import re

    for c in corpora._registry().values():
        for f in c.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256 or ""), (c.name, f.name)
        if c.archive is not None:
            assert re.fullmatch(r"[0-9a-f]{64}", c.archive.sha256 or ""), (c.name, c.archive.url)


@pytest.mark.parametrize("make", [_zip, _tar])
def test_extract_is_all_or_nothing(tmp_path, make):
    """A good member before a hostile one is not left behind; nor is the staging folder."""
    arch = make(tmp_path / ("m.zip" if make is _zip else "m.tar.gz"), {"good.txt": b"fine", "../evil.txt": b"x"})
    out = tmp_path / "out"
    with pytest.raises(DataError, match="refusing archive member"):
        extract(arch, out)
    assert list(out.iterdir()) == [] and not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("make", [_zip, _tar])
def test_extract_caps_expansion(tmp_path, make):
    """A small archive of zeros expanding 1000x is refused (counted on the bytes produced),
    leaving nothing; a normal ratio passes."""
    big = b"\0" * (10 << 20)  # 10 MiB of zeros: ~10 KB compressed
    arch = make(tmp_path / ("b.zip" if make is _zip else "b.tar.gz"), {"a.txt": b"ok", "bomb.bin": big})
    if make is _zip:  # _zip stores: recompress so the ratio is a bomb's
        with zipfile.ZipFile(arch, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("a.txt", b"ok")
            z.writestr("bomb.bin", big)
    assert arch.stat().st_size < 100_000
    out = tmp_path / "out"
    with pytest.raises(DataError, match="expand past"):
        extract(arch, out)
    assert list(out.iterdir()) == []
    assert [p.name for p in extract(arch, tmp_path / "ok", max_ratio=10_000)] == ["a.txt", "bomb.bin"]
    with pytest.raises(DataError, match="expand past"):
        extract(arch, tmp_path / "cap", max_ratio=10_000, max_bytes=1 << 20)


def test_extract_broken_archive_is_one_error(tmp_path):
    arch = _zip(tmp_path / "c.zip", {"a.txt": b"hello " * 100})
    data = bytearray(arch.read_bytes())
    i = data.index(b"hello")
    data[i:i + 5] = b"HELLO"  # stored member: CRC no longer matches
    arch.write_bytes(bytes(data))
    with pytest.raises(DataError, match="broken archive"):
        extract(arch, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
