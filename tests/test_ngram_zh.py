"""Chinese n-gram models: the Python API ranks strings with the model's own tokenizer (char or
zh, recorded in the file), `ngram rank` (= score --rank), another tokenizer at evaluation is an
error, and an ARPA file with the zh record is still read by the kenlm module."""
from __future__ import annotations

import json
import warnings

import pytest

from groundup.cli import main
from groundup.data.locate import bundled_path
from groundup.data.pipeline import TextOptions
from groundup.text.ngram import NgramModel
from groundup.text.ngram.kneser_ney import DiscountFallbackWarning

GOOD, BAD = "学而时习之", "习学之时而"


@pytest.fixture(scope="module")
def lunyu():
    return bundled_path("zh", "lunyu.txt").read_text(encoding="utf-8").splitlines()


def _build(lines, tokenizer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        return NgramModel.build_from_text(lines, 3, "mkn", text=TextOptions(tokenizer=tokenizer))


def test_api_ranking_uses_the_recorded_tokenizer(lunyu, tmp_path):
    m = _build(lunyu, "char")
    ranked = m.rank([BAD, GOOD])
    # split on whitespace, each candidate would be one unknown "word" and the two would tie;
    # read the model's way (one token per character) the real order wins by orders of magnitude
    assert [t for _, t in ranked] == [GOOD, BAD]          # joined back with the char joiner ""
    assert ranked[0][0] > ranked[1][0] + 3
    assert m.score(GOOD) == pytest.approx(m.score(list(GOOD)))
    # the record survives an ARPA file: the loaded model ranks the same way
    m.save(tmp_path / "m.arpa")
    loaded = NgramModel.load(tmp_path / "m.arpa")
    assert loaded.text.tokenizer == "char"
    assert [t for _, t in loaded.rank([BAD, GOOD])] == [GOOD, BAD]
    # a model without a record (an lmplz file) splits on whitespace, as KenLM's query does
    plain = tmp_path / "plain.arpa"
    plain.write_text("\n".join(l for l in (tmp_path / "m.arpa").read_text(encoding="utf-8").splitlines()
                               if not l.startswith("#")) + "\n", encoding="utf-8")
    unrecorded = NgramModel.load(plain)
    assert unrecorded.text is None
    assert unrecorded.score(GOOD) == pytest.approx(unrecorded.score(BAD))   # one <unk> each


def test_zh_model_arpa_kenlm_and_cli(lunyu, tmp_path, capsys):
    pytest.importorskip("jieba")
    from groundup.data.zh import cut

    m = _build(lunyu, "zh")
    path = tmp_path / "zh.arpa"
    m.save(path)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# groundup-text ") and json.loads(first[16:])["tokenizer"] == "zh"
    assert NgramModel.load(path).text.tokenizer == "zh"
    sents = ["子曰：学而时习之，不亦说乎？", "君子务本，本立而道生。", "人工智能很有用"]
    kenlm = pytest.importorskip("kenlm")
    km = kenlm.Model(str(path))   # the '#' record line before \data\ is skipped by KenLM
    assert km.order == 3
    for s in sents:   # ours tokenizes the string with jieba; kenlm is given the same words
        assert km.score(" ".join(cut(s)), bos=True, eos=True) == pytest.approx(m.score(s), abs=1e-4)
    # ngram rank (= score --rank) reads the candidates the model's way
    capsys.readouterr()
    assert main(["ngram", "rank", str(path), "-s", "之习时而学", "-s", GOOD, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ranked"] is True and out["sentences"][0]["text"] == " ".join(cut(GOOD))
    assert main(["ngram", "score", str(path), "-s", "之习时而学", "-s", GOOD, "--rank", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == out
    # evaluating with another tokenizer is an error naming the model's, not a number
    test = tmp_path / "t.txt"
    test.write_text("\n".join(sents) + "\n", encoding="utf-8")
    for other in ("char", "word"):
        assert main(["ngram", "eval", str(path), str(test), "--tokenizer", other]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (f"groundup: error: model {path} was built with --tokenizer zh, not {other}: "
                       f"evaluate it with its own text options (--tokenizer zh --lowercase false "
                       f"--script keep --min-count 1 --max-vocab 0), or leave the option out")
    assert main(["ngram", "eval", str(path), str(test), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == sum(len(cut(s)) + 1 for s in sents)


def test_a_recorded_arpa_can_be_rebuilt_in_place(tmp_path, capsys):
    """An ARPA file that starts with the '# groundup-text' record is recognised as a model, so a
    second build replaces it without --force (it used to be 'not an ARPA model')."""
    train = tmp_path / "t.txt"
    train.write_text("学 而 时 习 之\n不 亦 说 乎\n", encoding="utf-8")
    m = tmp_path / "m.arpa"
    for _ in range(2):
        assert main(["ngram", "build", str(train), "--order", "2", "--smoothing", "addk", "-o", str(m)]) == 0
    assert m.read_text(encoding="utf-8").startswith("# groundup-text ")
    other = tmp_path / "notes.arpa"
    other.write_text("# my notes\nnot a model\n", encoding="utf-8")
    assert main(["ngram", "build", str(train), "--order", "2", "-o", str(other)]) == 2
    assert "not an ARPA model" in capsys.readouterr().err
