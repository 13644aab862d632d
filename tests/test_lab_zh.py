"""The Chinese lab: the experiments' message catalogue (every experiment has a Chinese title and
claim; the Chinese catalogue has exactly the English keys and the same template fields), the
verdict rules of the Chinese text experiments (held, not held, inconclusive), and their
results.json fields from tiny runs (the bundled data swapped for a few lines; the quick runs are
in the lab itself, docs/word2vec.md)."""
from __future__ import annotations

import json
import string

import pytest

from groundup.data.tokenize import has_cjk
from groundup.lab import registry
from groundup.lab.catalogue import ZH, catalogue, text, title_claim


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_experiment_has_a_chinese_title_and_claim():
    names = registry.names("all")
    assert len(registry.EXPERIMENTS) >= 13 and len(names) == len(registry.EXPERIMENTS) + len(registry.ZH_EXPERIMENTS)
    assert set(registry.names("zh")) <= set(names)
    for n in names:
        title, claim = title_claim(n, "zh")
        assert has_cjk(title) and has_cjk(claim), n
        assert title_claim(n, "en") == (text("en", f"{n}.title"), text("en", f"{n}.claim"))


def test_the_chinese_catalogue_has_exactly_the_english_keys_and_fields():
    en, zh = catalogue("en"), catalogue("zh")
    assert set(zh) == set(en)
    assert zh == ZH
    for key in en:
        assert en[key] and zh[key], key
        assert _fields(zh[key]) == _fields(en[key]), key
    # the modules' own English is what the catalogue holds
    for n in registry.names("all"):
        mod = registry.load(n)
        assert (mod.TITLE, mod.CLAIM) == (en[f"{n}.title"], en[f"{n}.claim"]), n


def test_unknown_language_is_a_config_error():
    from groundup.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown report language 'xx'"):
        catalogue("xx")


def test_zh_default_list_replaces_the_english_text_experiments():
    zh = registry.names("zh")
    assert [n for n in zh if n.endswith("-zh")] == list(registry.ZH_EXPERIMENTS)
    assert zh[:4] == ["ngram-zh", "word2vec-zh", "segment-zh", "charlm-zh"]
    assert "ngram" not in zh and "word2vec" not in zh and "rnn" in zh
    assert not set(registry.ZH_EXPERIMENTS) & set(registry.names("en"))


# ------------------------------------------------------------------------- verdict rules
def test_charlm_verdict():
    from groundup.lab.charlm_zh import form_share, verdict

    assert verdict({"lstm": 0.4, "transformer": 0.3}, {"lstm": 0.6, "transformer": 0.9}) is True
    assert verdict({"lstm": 0.8, "transformer": 0.3}, {"lstm": 0.6, "transformer": 0.9}) is False
    assert verdict({"lstm": 0.56, "transformer": 0.3}, {"lstm": 0.6, "transformer": 0.9}) is False  # >= 0.5
    assert verdict({"lstm": 0.4, "transformer": 0.3}, {"lstm": 0.6, "transformer": 0.2}) is False
    # clauses: 5, 7, 3 characters -> 2 of 3
    assert form_share(["白日依山尽，黄河入海流向东。春风吹。"]) == pytest.approx(2 / 3)


def test_ngram_zh_verdict():
    from groundup.lab.ngram_zh import judge, shuffled

    assert judge(0.99, 0.98, 50.0, 30.0) is True
    assert judge(0.99, 0.98, 50.0, 60.0) is False      # words not lower per character
    assert judge(0.90, 0.98, 50.0, 30.0) is False      # characters below 95% of pairs
    assert judge(0.99, None, 50.0, None) is None        # no zh tokenizer: inconclusive
    assert judge(0.80, None, 50.0, None) is False
    import numpy as np

    s = list("我们去学校")
    assert sorted(shuffled(s, np.random.default_rng(0))) == sorted(s)
    assert all(shuffled(s, np.random.default_rng(i)) != s for i in range(20))


def test_word2vec_zh_verdict():
    from groundup.lab.word2vec_zh import judge, spearman_lower_bound

    assert judge(0.3, 0.8, 0.10, 500, 0.1) is True
    assert judge(0.1, 0.8, 0.10, 500, 0.1) is False     # groups do not separate
    assert judge(0.3, 0.8, 0.01, 500, 0.1) is False     # CA8 accuracy below 5%
    assert judge(0.3, 0.8, 0.10, 50, 0.1) is False      # too few covered questions
    assert judge(0.3, 0.8, 0.10, 500, -0.01) is False   # COS960 not above 0
    # rho 0.3 over 100 pairs: z = 0.3095, minus 1.96 / sqrt(97) = 0.1990 -> tanh(0.1105) = 0.110
    assert spearman_lower_bound(0.3, 100) == pytest.approx(0.1100, abs=5e-4)


def test_segment_zh_verdict():
    from groundup.lab.segment_zh import judge

    assert judge({"unigram": 0.78, "bigram": 0.80, "jieba": 0.81}) is True
    assert judge({"unigram": 0.78, "bigram": 0.78, "jieba": 0.81}) is False   # gap 0.03
    assert judge({"unigram": 0.82, "bigram": 0.80, "jieba": 0.81}) is False   # unigram better
    assert judge({"unigram": 0.78, "bigram": 0.80}) is None


# --------------------------------------------------------------- tiny runs, results.json
STORIES = ["小猫 和 小狗 在 森林 里 玩 。", "妈妈 说 ： 我们 去 学校 吧 。", "老虎 看见 了 兔子 ， 就 跑 了 。",
           "春天 来 了 ， 花 开 了 。", "爸爸 给 我 买 了 一 个 红色 的 气球 。",
           "哥哥 和 姐姐 看见 了 爸爸 和 妈妈 。"] * 40


@pytest.fixture
def tiny_data(monkeypatch):
    """The bundled stories and poems swapped for a few lines, the models and steps shrunk."""
    from groundup.lab import charlm_zh, ngram_zh, word2vec_zh, zh_data

    monkeypatch.setattr(zh_data, "cmrc_lines",
                        lambda raw=False: ["".join(s.split()) for s in STORIES] if raw else list(STORIES))
    poems = ["白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", "床前明月光，疑是地上霜。举头望明月，低头思故乡。"] * 30
    monkeypatch.setattr(charlm_zh, "read_poems", lambda: poems)
    monkeypatch.setattr(charlm_zh, "QUICK_STEPS", 3)
    monkeypatch.setattr(charlm_zh, "QUICK_BATCH", 4)
    monkeypatch.setattr(charlm_zh, "N_SAMPLES", 2)
    monkeypatch.setitem(charlm_zh.MODELS, "lstm", dict(charlm_zh.MODELS["lstm"], emb_size=16, hidden_size=16,
                                                      num_layers=1))
    monkeypatch.setitem(charlm_zh.MODELS, "transformer", dict(charlm_zh.MODELS["transformer"], d_model=16,
                                                             d_ff=32, n_heads=2, num_layers=1))
    monkeypatch.setattr(charlm_zh, "RECIPE", dict(charlm_zh.RECIPE, batch_size=4, bptt=16))
    monkeypatch.setattr(charlm_zh, "BPTT", 16)
    monkeypatch.setattr(ngram_zh, "PAIRS_QUICK", 20)
    monkeypatch.setattr(word2vec_zh, "SETTINGS", dict(word2vec_zh.SETTINGS, epochs=1, min_count=1, dim=8,
                                                     threads=1))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_zh_experiments_write_their_results(tiny_data, tmp_path, lang):
    from groundup.lab.runner import run_lab

    names = ["ngram-zh", "word2vec-zh", "charlm-zh"]
    results = run_lab(names, tmp_path, lang=lang, log=lambda m: None)
    assert [r.error for r in results] == ["", "", ""]
    exps = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["experiments"]
    assert list(exps) == names
    for n in names:
        e = exps[n]
        assert e["status"] == "ok" and e["held"] in (True, False, None)
        assert e["title"] == text(lang, f"{n}.title") and e["claim"] == text(lang, f"{n}.claim")
        assert e["criterion"] == text(lang, f"{n}.criterion")
        assert has_cjk(e["verdict"]) == (lang == "zh"), e["verdict"]
        assert e["plots"] and (tmp_path / n / e["plots"][0]["file"]).is_file()
        assert all(has_cjk(t["title"]) == (lang == "zh") for t in e["tables"]), n
    assert {"pairs_won_char", "ppl_per_char_char_3", "test_chars"} <= set(exps["ngram-zh"]["figures"])
    assert {"ca8_accuracy", "ca8_covered", "cos960_spearman", "cos960_pairs",
            "group_nn_same_group"} <= set(exps["word2vec-zh"]["figures"])
    f = exps["charlm-zh"]["figures"]
    assert {"lstm_valid_ppl", "transformer_valid_ppl", "unigram_valid_ppl", "lstm_samples"} <= set(f)
    assert 1 <= f["lstm_steps"] <= 3 and len(f["transformer_samples"]) == 2
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert (f'<html lang="{lang}">' in report) and (("实验报告" in report) == (lang == "zh"))


def test_ngram_zh_without_the_zh_tokenizer_says_so(tiny_data, tmp_path, monkeypatch):
    from groundup.lab import ngram_zh, zh_data

    monkeypatch.setattr(zh_data, "zh_tokenizer", lambda: (None, "needs the zh extra: pip install 'groundup[zh]'"))
    r = ngram_zh.run(tmp_path, full=False, seed=0, lang="zh")
    assert r.held is None and "pip install 'groundup[zh]'" in r.verdict and "没有建词模型" in r.verdict
    assert r.summary["word_tokenizer"] is None and "pairs_won_word" not in r.summary


def test_lab_lang_option(tmp_path, capsys):
    from groundup.cli import main

    assert main(["lab", "--list", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "charlm-zh" in out and "字符级语言模型写唐诗" in out
    with pytest.raises(SystemExit) as e:
        main(["lab", "--lang", "fr", "--out", str(tmp_path / "x")])
    assert e.value.code == 2


def test_segment_zh_without_jieba_is_inconclusive(tiny_data, tmp_path, monkeypatch):
    from groundup.lab import segment_zh, zh_data

    monkeypatch.setattr(zh_data, "zh_tokenizer", lambda: (None, "needs the zh extra: pip install 'groundup[zh]'"))
    monkeypatch.setattr(segment_zh, "gold_sentences", lambda: [s.split() for s in STORIES[:6]])
    r = segment_zh.run(tmp_path, full=False, seed=0, lang="en")
    assert r.held is None and "pip install 'groundup[zh]'" in r.verdict
    # the stories are their own lexicon and bigram corpus: the gold cut is found
    assert r.summary["f1_bigram"] > 0.9 and "f1_jieba" not in r.summary
    assert r.summary["lexicon"] == "CMRC 2017" and (tmp_path / r.plots[0].file).is_file()
