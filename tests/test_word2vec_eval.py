"""Queries and evaluation against gensim's KeyedVectors holding the very same vectors."""
import numpy as np
import pytest

from groundup.errors import DataError
from groundup.text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs, rankdata, spearman
from groundup.text.word2vec.vectors import WordVectors

gensim_models = pytest.importorskip("gensim.models")


def _planted_vectors(questions_path, extra_lower=True, dim=24, seed=0):
    """Vectors for every word of an analogy file, with a shared offset per section planted for
    half of the sections (so a good share of questions is right), lowercase twins of some words
    placed *before* them in frequency order (to exercise the case rule), and filler words."""
    rng = np.random.default_rng(seed)
    words, vec = [], {}
    section_offset = None
    for line in open(questions_path, encoding="utf-8"):
        if line.startswith(": "):
            section_offset = rng.normal(size=dim) if rng.random() < 0.5 else None
            continue
        if len(line.split()) != 4:
            continue
        a, b, c, d = line.split()
        for w in (a, c):
            if w not in vec:
                vec[w] = rng.normal(size=dim); words.append(w)
        for x, y in ((a, b), (c, d)):
            if y not in vec:
                vec[y] = (vec[x] + section_offset if section_offset is not None else 0) + 0.3 * rng.normal(size=dim)
                words.append(y)
    rng.shuffle(words)
    out = []
    for w in words:
        if extra_lower and w.lower() != w and rng.random() < 0.3:
            out.append(w.lower()); vec[w.lower()] = rng.normal(size=dim)
        out.append(w)
    for i in range(200):
        out.append(f"filler{i}"); vec[f"filler{i}"] = rng.normal(size=dim)
    out = list(dict.fromkeys(out))
    return WordVectors(out, np.array([vec[w] for w in out], np.float32))


def _kv(wv):
    kv = gensim_models.KeyedVectors(wv.dim)
    kv.add_vectors(wv.words, wv.vectors)
    return kv


@pytest.fixture
def analogy_file(tmp_path):
    """A small file in the Google format: capitals, plurals, and a malformed line."""
    lines = [": capital-like"]
    caps = [("Athens", "Greece"), ("Paris", "France"), ("Rome", "Italy"), ("Oslo", "Norway"),
            ("Cairo", "Egypt"), ("Lima", "Peru")]
    for a, b in caps:
        for c, d in caps:
            if a != c:
                lines.append(f"{a} {b} {c} {d}")
    lines.append(": gram-plural")
    pl = [("cat", "cats"), ("dog", "dogs"), ("car", "cars"), ("tree", "trees"), ("zzz", "zzzs")]
    for a, b in pl:
        for c, d in pl:
            if a != c:
                lines.append(f"{a} {b} {c} {d}")
    lines.append("only three words")
    p = tmp_path / "q.txt"
    p.write_text("\n".join(lines) + "\n")
    return p


def _check_against_gensim(wv, path, restrict):
    kv = _kv(wv)
    score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict)
    ours = evaluate_analogies(wv, path, restrict_vocab=restrict)
    assert ours.accuracy == pytest.approx(score, abs=1e-12)
    g = {s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections[:-1]}
    o = {s["section"]: (s["correct"], s["total"]) for s in ours.sections}
    assert o == g
    return ours


def test_analogies_match_gensim_on_small_file(analogy_file):
    wv = _planted_vectors(analogy_file)
    ours = _check_against_gensim(wv, analogy_file, restrict=30000)
    assert ours.total > 0 and 0 < ours.accuracy < 1
    # restrict below the vocabulary: questions with a rarer word are skipped, not wrong
    r = _check_against_gensim(wv, analogy_file, restrict=12)
    assert r.oov > 0 and r.total + r.oov == r.questions


def test_analogies_match_gensim_on_google_set(shared_data):
    q = shared_data / "word-eval" / "questions-words.txt"
    if not q.exists():
        pytest.skip("questions-words.txt not in shared data")
    wv = _planted_vectors(q, dim=16)
    ours = _check_against_gensim(wv, q, restrict=500)
    assert ours.questions == 19544 and ours.total > 50


def test_word_pairs_match_gensim(tmp_path):
    rng = np.random.default_rng(2)
    words = ["tiger", "cat", "Cat", "dog", "car", "love", "sex", "Money", "cash", "bank"]
    wv = WordVectors(words, rng.normal(size=(len(words), 8)).astype(np.float32))
    p = tmp_path / "pairs.tsv"
    p.write_text("# comment\n" + "\n".join([
        "tiger\tcat\t7.35", "CAT\tdog\t6.0", "car\tlove\t1.2", "love\tsex\t6.77", "money\tcash\t9.15",
        "bank\tmoney\t8.5", "dog\tunicorn\t3.0", "tiger\ttiger\t10.0", "car\tcash\t2.0", "bad line",
        "cash\tbank\t7.0"]) + "\n")
    pearson, (rho, _), oov = _kv(wv).evaluate_word_pairs(str(p))
    ours = evaluate_word_pairs(wv, p)
    assert ours.spearman == pytest.approx(rho, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert ours.oov_ratio == pytest.approx(oov) and ours.oov == 1
    with pytest.raises(DataError, match="no word pair"):
        evaluate_word_pairs(WordVectors(["zz"], np.ones((1, 2))), p)


def test_spearman_average_ties_by_hand():
    assert rankdata([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)   # 1 - 6*2/(4*15)


def test_queries_match_gensim():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(300)]
    wv = WordVectors(words, rng.normal(size=(300, 10)).astype(np.float32))
    kv = _kv(wv)
    for got, want in [
        (wv.most_similar(["w1", "w2"], ["w3"], topn=5), kv.most_similar(["w1", "w2"], ["w3"], topn=5)),
        (wv.most_similar("w7", topn=8), kv.most_similar("w7", topn=8)),
        (wv.most_similar_cosmul(["w1", "w2"], ["w3"], topn=5), kv.most_similar_cosmul(["w1", "w2"], ["w3"], topn=5)),
        (wv.similar_by_vector(wv["w9"], topn=4), kv.similar_by_vector(kv["w9"], topn=4)),
        (wv.most_similar(["w4"], topn=5, restrict_vocab=50), kv.most_similar(["w4"], topn=5, restrict_vocab=50)),
    ]:
        assert [w for w, _ in got] == [w for w, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
    assert wv.similarity("w1", "w2") == pytest.approx(float(kv.similarity("w1", "w2")), abs=1e-6)
    group = ["w1", "w2", "w3", "w50"]
    assert wv.doesnt_match(group) == kv.doesnt_match(group)
    assert wv.analogy("w3", "w1", "w2", topn=3) == wv.most_similar(["w1", "w2"], ["w3"], topn=3)
    np.testing.assert_allclose(np.linalg.norm(wv.unit, axis=1), 1, atol=1e-6)
    with pytest.raises(KeyError, match="not in vocabulary"):
        wv.most_similar("nope")
