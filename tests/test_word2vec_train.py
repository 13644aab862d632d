"""Training end to end on tiny synthetic corpora: planted structure, reproducibility, streaming."""
import numpy as np
import pytest

from groundup.errors import ConfigError
from groundup.data.pipeline import TextOptions
from groundup.text.word2vec import Word2VecConfig, train
from groundup.text.word2vec.vocab import read_sentences

GROUP_A = [f"a{i}" for i in range(8)]
GROUP_B = [f"b{i}" for i in range(8)]


def planted_corpus(n=600, seed=0):
    """Sentences drawn entirely from one of two word groups: the groups never share a context."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        group = GROUP_A if k % 2 == 0 else GROUP_B
        out.append([group[i] for i in rng.integers(0, len(group), 12)])
    return out


def _group_gap(wv):
    U = wv.unit
    ia = [wv.index(w) for w in GROUP_A]
    ib = [wv.index(w) for w in GROUP_B]
    S = U @ U.T
    within = np.mean([S[i, j] for g in (ia, ib) for i in g for j in g if i != j])
    across = S[np.ix_(ia, ib)].mean()
    return within, across


@pytest.mark.parametrize("arch,loss", [("sg", "ns"), ("cbow", "ns"), ("sg", "hs"), ("cbow", "hs")])
def test_planted_groups_are_recovered(arch, loss):
    cfg = Word2VecConfig(arch=arch, loss=loss, negative=5 if loss == "ns" else 0, dim=16, window=3,
                         min_count=1, sample=0, epochs=5, threads=1, seed=3)
    m = train(planted_corpus(), cfg, show_progress=False)
    within, across = _group_gap(m.wv)
    # random 16-d vectors give within ~= across ~= 0; trained ones separate the groups widely
    assert within - across > 0.5, (within, across)
    assert m.epoch_loss[-1] < m.epoch_loss[0]
    assert len(m.epoch_loss) == 5 and all(np.isfinite(m.epoch_loss))


def test_single_thread_is_reproducible_and_seed_matters():
    cfg = Word2VecConfig(dim=8, min_count=1, epochs=2, threads=1, seed=5, sample=1e-2)
    a = train(planted_corpus(200), cfg, show_progress=False)
    b = train(planted_corpus(200), cfg, show_progress=False)
    np.testing.assert_array_equal(a.syn0, b.syn0)
    assert a.epoch_loss == b.epoch_loss
    c = train(planted_corpus(200), Word2VecConfig(dim=8, min_count=1, epochs=2, threads=1, seed=6,
                                                  sample=1e-2), show_progress=False)
    assert not np.array_equal(a.syn0, c.syn0)


def test_deterministic_two_threads_is_reproducible():
    cfg = Word2VecConfig(dim=16, window=3, min_count=1, epochs=4, threads=2, seed=5, sample=0,
                         deterministic=True, sync_words=500)
    a = train(planted_corpus(400), cfg, show_progress=False)
    b = train(planted_corpus(400), cfg, show_progress=False)
    np.testing.assert_array_equal(a.syn0, b.syn0)
    np.testing.assert_array_equal(a.syn1neg, b.syn1neg)
    within, across = _group_gap(a.wv)
    assert within - across > 0.5


def test_streaming_equals_in_memory(tmp_path):
    """Two routes to one answer: re-reading the file every epoch (streaming) gives the very same
    vectors as training from the int-encoded corpus held in memory (one thread)."""
    f = tmp_path / "c.txt"
    f.write_text("\n".join(" ".join(s) for s in planted_corpus(300)) + "\n")
    corpus = read_sentences(f, TextOptions())
    base = dict(dim=8, min_count=1, epochs=2, threads=1, seed=2, job_words=500, sample=1e-2)
    a = train(corpus, Word2VecConfig(**base, in_memory=True), show_progress=False)
    b = train(corpus, Word2VecConfig(**base, in_memory=False), show_progress=False)
    np.testing.assert_array_equal(a.syn0, b.syn0)
    assert a.stats["effective_words"] == b.stats["effective_words"]


def test_hogwild_two_threads_trains():
    m = train(planted_corpus(600), Word2VecConfig(dim=16, window=3, min_count=1, sample=0, epochs=4,
                                                  threads=2, job_words=300), show_progress=False)
    within, across = _group_gap(m.wv)
    assert within - across > 0.5


def test_lr_decay_and_effective_words():
    # no sub-sampling: every token is effective in every epoch
    sents = planted_corpus(50)
    m = train(sents, Word2VecConfig(dim=4, min_count=1, epochs=3, threads=1, sample=0), show_progress=False)
    assert m.stats["effective_words"] == 3 * 50 * 12
    assert m.stats["retained_tokens"] == 600


def test_chinese_characters_train(tmp_path):
    """Character-level Chinese through the same reader: two families of characters that never
    share a sentence (fruit / weather) separate like the planted English groups."""
    fruit, weather = "苹果梨桃橙瓜莓", "雨雪风云雷雾霜"
    rng = np.random.default_rng(0)
    lines = []
    for k in range(500):
        chars = fruit if k % 2 == 0 else weather
        lines.append("".join(chars[i] for i in rng.integers(0, len(chars), 10)))
    f = tmp_path / "zh.txt"
    f.write_text("\n".join(lines), encoding="utf-8")
    m = train(read_sentences(f, TextOptions(tokenizer="char")), Word2VecConfig(dim=16, window=3, min_count=1, sample=0,
                                                              epochs=5, threads=1), show_progress=False)
    wv = m.wv
    assert set(wv.words) == set(fruit + weather)
    near = [w for w, _ in wv.most_similar("苹", topn=6)]
    assert set(near) <= set(fruit), near


@pytest.mark.parametrize("bad", [dict(dim=0), dict(window=0), dict(arch="skip"), dict(loss="nce"),
                                 dict(negative=0), dict(sample=-1.0), dict(alpha=0.0),
                                 dict(min_alpha=0.5), dict(epochs=0), dict(threads=0),
                                 dict(max_vocab_size=0)])
def test_config_validation_names_the_value(bad):
    with pytest.raises(ConfigError, match=list(bad)[0]):
        Word2VecConfig(**bad)


def test_init_range_word2vec_c_and_gensim():
    """syn0 starts uniform in [-0.5/D, 0.5/D) (word2vec.c) or [-1/D, 1/D) (gensim 4): the same
    draws, scaled by exactly 2. A learning rate of ~0 leaves the initial vectors in place."""
    D = 10
    kw = dict(dim=D, min_count=1, epochs=1, threads=1, seed=7, alpha=1e-12, min_alpha=0.0)
    c = train(planted_corpus(50), Word2VecConfig(**kw), show_progress=False).syn0
    g = train(planted_corpus(50), Word2VecConfig(init="gensim", **kw), show_progress=False).syn0
    assert np.abs(c).max() <= 0.5 / D and np.abs(c).max() > 0.45 / D
    assert np.abs(g).max() <= 1.0 / D and np.abs(g).max() > 0.9 / D
    np.testing.assert_allclose(g, 2 * c, rtol=1e-5, atol=1e-9)
    with pytest.raises(ConfigError, match="init"):
        Word2VecConfig(init="xavier")


class _Killed(Exception):
    pass


@pytest.mark.parametrize("kw", [dict(threads=1), dict(threads=1, in_memory=False, arch="cbow", loss="hs",
                                                        negative=0),
                                dict(threads=2, deterministic=True, sync_words=300)])
def test_resume_from_checkpoint_is_bit_identical(tmp_path, monkeypatch, kw):
    """A run stopped right after its k-th checkpoint and continued from it gives the very same
    vectors, output weights and per-epoch losses as an uninterrupted run (one thread, or the
    deterministic mode), for a stop in the first epoch, mid-run and at the last epoch's end."""
    import importlib

    from groundup.text.word2vec import checkpoint as ck

    train_mod = importlib.import_module("groundup.text.word2vec.train")   # the module, not the function

    cfg = Word2VecConfig(dim=8, window=3, min_count=1, epochs=3, seed=4, sample=1e-2, job_words=400, **kw)
    corpus = planted_corpus(200)                   # 2,400 tokens: 6 jobs an epoch, 18 in all
    whole = train(corpus, cfg, show_progress=False)
    real_save = ck.save_checkpoint
    for k in (1, 8, 100):
        path = tmp_path / f"run{k}.ckpt"
        saves = []

        def save_then_die(*args, **kwargs):
            real_save(*args, **kwargs)
            saves.append(1)
            if len(saves) == k:
                raise _Killed

        monkeypatch.setattr(train_mod, "save_checkpoint", save_then_die)
        policy = train_mod.Checkpointing(path, every_seconds=0)
        try:
            train(corpus, cfg, show_progress=False, checkpoint=policy)
        except _Killed:
            pass
        assert path.exists()
        monkeypatch.setattr(train_mod, "save_checkpoint", real_save)
        resumed = train(corpus, cfg, show_progress=False, checkpoint=policy)
        for a, b in ((whole.syn0, resumed.syn0), (whole.syn1neg, resumed.syn1neg), (whole.syn1, resumed.syn1)):
            if a is None:
                assert b is None
            else:
                np.testing.assert_array_equal(a, b)
        assert whole.epoch_loss == resumed.epoch_loss
        assert whole.stats["effective_words"] == resumed.stats["effective_words"]


def test_checkpoint_of_other_settings_or_corpus_is_refused(tmp_path):
    from groundup.errors import TrainingError
    from groundup.text.word2vec.checkpoint import Checkpointing

    path = tmp_path / "c.ckpt"
    cfg = Word2VecConfig(dim=8, min_count=1, epochs=1, threads=1, job_words=400)
    train(planted_corpus(100), cfg, show_progress=False, checkpoint=Checkpointing(path, 0))
    with pytest.raises(TrainingError, match="other settings.*dim"):
        train(planted_corpus(100), Word2VecConfig(dim=9, min_count=1, epochs=1, threads=1, job_words=400),
              show_progress=False, checkpoint=Checkpointing(path, 0))
    with pytest.raises(TrainingError, match="another corpus"):
        train(planted_corpus(100, seed=1), cfg, show_progress=False, checkpoint=Checkpointing(path, 0))


def test_non_finite_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path):
    """alpha = 1e30 overflows in the first job: the run stops before saving anything bad."""
    from groundup.errors import TrainingError
    from groundup.text.word2vec.checkpoint import Checkpointing

    path = tmp_path / "c.ckpt"
    cfg = Word2VecConfig(dim=8, min_count=1, epochs=2, threads=1, job_words=400, alpha=1e30, min_alpha=0)
    with pytest.raises(TrainingError, match=r"loss became (nan|inf) in epoch 1"):
        train(planted_corpus(100), cfg, show_progress=False, checkpoint=Checkpointing(path, 0))
    assert not path.exists()


def test_malformed_checkpoints_are_one_clear_error(tmp_path):
    from groundup.errors import ModelFormatError
    from groundup.text.word2vec.checkpoint import Checkpointing

    path = tmp_path / "c.ckpt"
    cfg = Word2VecConfig(dim=8, min_count=1, epochs=1, threads=1, job_words=400)
    train(planted_corpus(100), cfg, show_progress=False, checkpoint=Checkpointing(path, 0))
    good = path.read_bytes()
    for bad in (good[: len(good) // 2], b"not a zip", good.replace(b"groundup-word2vec-checkpoint", b"x" * 28)):
        path.write_bytes(bad)
        with pytest.raises(ModelFormatError, match="c.ckpt"):
            train(planted_corpus(100), cfg, show_progress=False, checkpoint=Checkpointing(path, 0))
    path.unlink()
    path.mkdir()
    with pytest.raises(ModelFormatError, match="not a regular file"):
        train(planted_corpus(100), cfg, show_progress=False, checkpoint=Checkpointing(path, 0))


def test_hogwild_two_threads_resumes(tmp_path, monkeypatch):
    """Hogwild with two threads pauses both at job boundaries for a checkpoint and continues
    from it (not bit-for-bit: an uninterrupted Hogwild run is not either); the resumed run still
    separates the planted groups."""
    import importlib

    from groundup.text.word2vec import checkpoint as ck

    train_mod = importlib.import_module("groundup.text.word2vec.train")
    cfg = Word2VecConfig(dim=16, window=3, min_count=1, epochs=4, threads=2, sample=0, job_words=300)
    path, real_save, saves = tmp_path / "h.ckpt", ck.save_checkpoint, []

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        saves.append(1)
        if len(saves) == 5:
            raise _Killed

    monkeypatch.setattr(train_mod, "save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        train(planted_corpus(600), cfg, show_progress=False, checkpoint=train_mod.Checkpointing(path, 0))
    monkeypatch.setattr(train_mod, "save_checkpoint", real_save)
    m = train(planted_corpus(600), cfg, show_progress=False, checkpoint=train_mod.Checkpointing(path, 0))
    assert len(m.epoch_loss) == 4 and m.stats["effective_words"] == 4 * 600 * 12
    within, across = _group_gap(m.wv)
    assert within - across > 0.5
