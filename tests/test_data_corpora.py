"""The registry: bundled checksums, resolve() on names / paths / missing corpora, load_corpus."""
from __future__ import annotations

import pytest

from groundup.data import corpora
from groundup.data.batching import corpus_ids, encode_stream
from groundup.data.corpora import load_corpus, resolve, resolve_files
from groundup.data.stats import corpus_stats, file_sha256, verify_corpus
from groundup.data.vocab import Vocab
from groundup.errors import DataError


@pytest.fixture
def no_shared(monkeypatch, tmp_path):
    """Pretend the shared data folder is absent and the cache is an empty temp folder."""
    monkeypatch.setattr(corpora, "shared_data_dir", lambda: None)
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_registry_entries_are_complete():
    names = corpora.names()
    for n in ("wikitext2", "ptb", "text8", "novels98", "tinyshakespeare", "questions-words", "wordsim353", "simlex999"):
        assert n in names
    for n in names:
        c = corpora.get(n)
        assert c.license and c.files and c.downloadable, n
        for f in c.files:
            assert f.sha256 is None or len(f.sha256) == 64, (n, f.name)
    assert corpora.get("WT2") is corpora.get("wikitext2")  # aliases, case-insensitive
    assert len(corpora.get("novels98").files) == 98
    assert corpora.get("novels98").total("words") == 13_933_457  # SOURCES.md total
    with pytest.raises(DataError, match="unknown corpus 'nope'"):
        corpora.get("nope")


def test_bundled_wikitext2_matches_registered_checksums(no_shared):
    # the .xz copies inside the package decompress to exactly the canonical WikiText-2 files
    c = corpora.get("wikitext2")
    assert corpora.where(c) == "bundled"
    results = verify_corpus(c)
    assert [r["status"] for r in results] == ["ok", "ok", "ok"], results


def test_bundled_wikitext2_counts(no_shared):
    # the published counts with one <eos> per line (Merity et al. 2016)
    valid = corpus_stats(load_corpus("wikitext2", "valid"))
    assert (valid["lines"], valid["tokens"]) == (3760, 217_646)
    test = corpus_stats(load_corpus("wikitext2", "test"))
    assert test["tokens"] == 245_569


def test_resolve_missing_corpus_says_how_to_download(no_shared):
    with pytest.raises(DataError, match=r"corpus 'ptb' not found .*run 'groundup data download ptb'"):
        resolve("ptb", "train")
    with pytest.raises(DataError, match="no such file, and not a registered corpus"):
        resolve("no/such/file.txt")
    with pytest.raises(DataError, match="unknown split 'dev2'"):
        resolve("wikitext2", "dev2")
    with pytest.raises(DataError, match="has no split 'valid'"):
        corpora.get("tinyshakespeare").split_files("valid")


def test_eval_sets_resolve_without_split(shared_data):
    c = corpora.get("questions-words")
    if corpora.where(c) == "missing":
        pytest.skip("word-eval not present")
    p = resolve("questions-words")
    assert p.name == "questions-words.txt" and resolve("analogy", "test") == p
    first = next(iter(load_corpus("questions-words")))
    assert first == ": capital-common-countries"  # the 'lines' tokenizer yields raw lines


def test_resolve_finds_cache(no_shared):
    d = no_shared / "data" / "ptb"
    d.mkdir(parents=True)
    for s in ("train", "valid", "test"):
        (d / f"ptb.{s}.txt").write_text(f" a {s} <unk>\n")
    assert resolve("ptb", "valid") == d / "ptb.valid.txt"
    assert corpora.where("ptb") == "cache"
    assert list(load_corpus("ptb", "test")) == [["a", "test", "<unk>", "<eos>"]]


def test_resolve_user_paths(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("hello world\n")
    assert resolve(f) == f and resolve(str(f), "test") == f  # a file is used for any split
    # a folder with split files
    d = tmp_path / "corpus"
    d.mkdir()
    for s in ("train", "valid", "test"):
        (d / f"{s}.txt").write_text(f"{s}\n")
    assert resolve(d, "valid") == d / "valid.txt"
    assert resolve(d, "dev") == d / "valid.txt"
    # words of the name count, substrings do not
    assert corpora._names_split("training_set.txt", "train") and corpora._names_split("dev.tsv", "valid")
    assert not corpora._names_split("The_Contest.txt", "test") and not corpora._names_split("x.txt", "train")
    # a folder without split names is a multi-file training corpus
    m = tmp_path / "books"
    m.mkdir()
    (m / "b_contest.txt").write_text("two\n")
    (m / "a.txt").write_text("one\n")
    (m / ".hidden").write_text("x\n")
    assert resolve(m) == m and resolve_files(m) == [m / "a.txt", m / "b_contest.txt"]
    assert list(load_corpus(m)) == [["one", "<eos>"], ["two", "<eos>"]]
    with pytest.raises(DataError, match="no file for split 'test'"):
        resolve(m, "test")
    e = tmp_path / "empty"
    e.mkdir()
    with pytest.raises(DataError, match="is a directory with no files"):
        resolve(e)


def test_user_path_wins_over_registered_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ptb").write_text("my own ptb\n")
    assert resolve("ptb").resolve() == (tmp_path / "ptb").resolve()


def test_load_corpus_tokenizers(tmp_path):
    f = tmp_path / "zh.txt"
    f.write_text("我爱NLP\n\n你好\n", encoding="utf-8")
    assert list(load_corpus(f, tokenizer="char")) == [["我", "爱", "NLP", "<eos>"], ["<eos>"], ["你", "好", "<eos>"]]
    assert list(load_corpus(f, tokenizer="codepoint", eos=False)) == [["我", "爱", "N", "L", "P"], [], ["你", "好"]]
    assert list(load_corpus(f, tokenizer="codepoint"))[0][-1] == "\n"   # char-rnn's end of line
    assert list(load_corpus(f, tokenizer="lines")) == ["我爱NLP", "", "你好"]
    c = load_corpus(f, tokenizer="word", eos="</s>")
    assert list(c) == list(c)  # re-iterable
    assert list(c.tokens()) == ["我爱NLP", "</s>", "</s>", "你好", "</s>"]


def test_encode_stream_and_corpus_ids(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("a b a\nc\n")
    ids, vocab = corpus_ids(f)
    # vocab: <unk>, a (2), <eos> (2, first seen after a), b, c
    assert vocab.itos == ["<unk>", "a", "<eos>", "b", "c"]
    assert ids.tolist() == [1, 3, 1, 2, 4, 2]
    assert encode_stream([["a", "zz"]], vocab, as_tensor=False).tolist() == [1, 0]
    with pytest.raises(DataError, match="no tokens"):
        encode_stream([[]], vocab)
    with pytest.raises(DataError, match="expects token lists"):
        encode_stream(load_corpus(f, tokenizer="lines"), vocab)


def test_file_sha256_of_compressed(tmp_path):
    import gzip

    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(b"abc"))
    assert file_sha256(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.data
def test_shared_corpora_match_registry(shared_data):
    # every registered file that the shared folder holds has the registered sha256 (PTB,
    # tinyshakespeare and the eval sets; novels98 is 77 MB, so only its first file here)
    for n in ("ptb", "tinyshakespeare", "questions-words", "wordsim353", "simlex999"):
        c = corpora.get(n)
        for f in c.files:
            p = shared_data / c.folder / f.name
            if p.exists():
                assert file_sha256(p) == f.sha256, (n, f.name)
                assert p.stat().st_size == f.bytes
    f0 = corpora.get("novels98").files[0]
    assert file_sha256(shared_data / "english-novels-98" / f0.name) == f0.sha256


def test_wikitext2_train_published_counts(no_shared):
    # Merity et al. 2016: 2,088,628 training tokens and a 33,278-word vocabulary with <eos>
    ids, vocab = corpus_ids("wikitext2", "train")
    assert ids.shape[0] == 2_088_628 and len(vocab) == 33_278
    assert vocab.itos[0] == "<unk>" and ids.dtype.is_floating_point is False


@pytest.mark.data
def test_ptb_counts(shared_data):
    if not (shared_data / "ptb" / "ptb.train.txt").exists():
        pytest.skip("PTB not in shared data")
    # Zaremba et al. / Mikolov: 929,589 train and 73,760 valid tokens with <eos>, 10,000 words
    ids, vocab = corpus_ids("ptb", "train")
    assert ids.shape[0] == 929_589 and len(vocab) == 10_000
    assert int(vocab.counts[vocab.stoi["<unk>"]]) == 45_020
    valid, _ = corpus_ids("ptb", "valid", vocab)
    # valid has no word outside the train vocabulary, so the unk ids are exactly its 3,485
    # literal <unk> tokens (grep -o '<unk>' ptb.valid.txt | wc -l)
    assert valid.shape[0] == 73_760 and int((valid == vocab.unk_id).sum()) == 3_485
    assert isinstance(vocab, Vocab)


def test_resolve_plain_decompresses_bundled_and_checks_sha(no_shared):
    p = corpora.resolve_plain("wikitext2", "valid")
    assert p.suffix == ".tokens" and p.parent == no_shared / "data" / "wikitext-2"
    assert file_sha256(p) == corpora.get("wikitext2").split_files("valid")[0].sha256
    assert corpora.resolve_plain("wikitext2", "valid") == p  # cached


def test_resolve_plain_user_files(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "a.txt"
    f.write_text("x\n")
    assert corpora.resolve_plain(f) == f  # already plain: returned as is
    d = tmp_path / "books"
    d.mkdir()
    (d / "1.txt").write_bytes("\ufeffone\r\ntwo".encode())
    (d / "2.txt").write_bytes(b"three\n")
    p = corpora.resolve_plain(d)
    assert p.read_text(encoding="utf-8") == "one\ntwo\nthree\n"


def test_export_tokens(tmp_path):
    f = tmp_path / "n.txt"
    f.write_text("It's 1864, Mr. Brown!\n\nThe end.\n")
    c = load_corpus(f, tokenizer="text8")
    assert corpora.export_tokens(c, tmp_path / "t8", one_line=True).read_text() == "it s mr brown the end\n"
    assert corpora.export_tokens(c, tmp_path / "t8l").read_text() == "it s mr brown\nthe end\n"
    (tmp_path / "p.txt").write_text("1864\n")
    with pytest.raises(DataError, match="holds no tokens"):
        corpora.export_tokens(load_corpus(tmp_path / "p.txt", tokenizer="text8"), tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.data
def test_text8_normaliser_matches_regex_reference_on_a_novel(shared_data):
    # independent route: Python's str.lower + re.sub over the whole decoded file; ours works on
    # UTF-8 bytes line by line. Same words on a real novel (BOM, CRLF, accents, dashes, digits).
    import re

    c = corpora.get("novels98")
    p = shared_data / c.folder / c.files[0].name
    ref = re.sub("[^a-z]+", " ", p.read_text(encoding="utf-8-sig").lower()).split()
    ours = list(load_corpus(p, tokenizer="text8").tokens())
    assert ours == ref and len(ours) > 190_000


@pytest.mark.parametrize("tokenizer,eos", [("text8", None), ("word", "<eos>"), ("codepoint", "\n"), ("char", "<eos>")])
def test_max_len_pieces_equal_whole_lines(tmp_path, monkeypatch, tokenizer, eos):
    # a text8-like single long line plus short lines: with max_len the pieces, concatenated,
    # are exactly the whole-line tokens, every piece <= max_len, the end token only at the end
    import random

    rng = random.Random(0)
    words = ["alpha", "Beta", "中文", "x", "nine9", "@-@", "\t"]
    long_line = " ".join(rng.choice(words) for _ in range(5000))
    f = tmp_path / "t.txt"
    f.write_text(long_line + "\nshort line\n\n", encoding="utf-8")
    monkeypatch.setattr(corpora.TextCorpus, "_SLICE", 997)  # many slices, cut at spaces
    whole = list(load_corpus(f, tokenizer=tokenizer, eos=eos or False))
    pieces = list(load_corpus(f, tokenizer=tokenizer, eos=eos or False, max_len=64))
    assert [t for p in pieces for t in p] == [t for w in whole for t in w]
    assert all(0 < len(p) <= 64 for p in pieces)
    assert len(pieces) > len(whole)
    if eos:  # the long line's end token closes its last piece, ceil(len / 64) pieces in
        first_end = next(i for i, p in enumerate(pieces) if p[-1] == eos)
        assert first_end == -(-len(whole[0]) // 64) - 1


def test_text8_corpus_default_max_len():
    assert corpora.get("text8").max_len == 10_000
    with pytest.raises(DataError, match="max_len must be >= 1"):
        corpora.TextCorpus(files=[], max_len=0)
