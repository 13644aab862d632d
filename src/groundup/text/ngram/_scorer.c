/* The packed model's scoring pass as a CPython extension: the same arithmetic as the numba
 * kernels of packed.py (word_id, find, step, score_bytes), without their per-call costs.
 *
 * Why a C twin: a per-sentence call into numba pays about 2 us of argument unboxing (13
 * arguments) and four small array allocations, more than the sentence's lookups. Here one call
 * takes a Python str (or a list of token strs), splits it, looks every word up and applies the
 * backoff rule with the state on the stack; the batched call does that for a list of sentences.
 *
 * Bit-identical to the numba path by construction: the same FNV-1a hash of a word's UTF-8 bytes
 * (packed.fnv), the same Fibonacci slot ((key * 0x9E37...) >> (64 - bits), packed.slot), the
 * same linear probes bounded by the table size (packed.find, packed.word_id), the same float64
 * operations in the same order (packed.step: s = lp of the longest listed n-gram, then
 * s += b(context of order j) for j = longest .. N-1 where that context is listed; total += s per
 * word). Integer products wrap as numba's int64 do (done in uint64 here, where C defines it).
 *
 * Layout (packed.py): meta = V, N, vocab_bits, offsets[N+1], t_off[N+2], t_bits[N+1]; the order-k
 * table starts at word t_off[k] of `table` and has 2^t_bits[k] rows of W_k int64 words (key,
 * log10 p, log10 b as float64 bits; W_N = 2, no backoff at the top order); key -1 = empty.
 * The arrays are held through the buffer protocol (no copy; a memory-mapped binary file works
 * as is), and every size is checked once at construction, so a lookup never reads outside them.
 *
 * Splitting a str: the model's recorded tokenizer, when it is one of the two whose rule is a
 * fixed set of separators (data/tokenize.py): `spaces` (lmplz: space, tab, CR) and `word`
 * (str.split(): Python's Unicode whitespace, WORD_WHITESPACE, matched on UTF-8 bytes). Any other
 * tokenizer is run in Python and its tokens are passed as a list.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define SCORER_VERSION 1 /* native.py refuses a built module of another version (a stale .so) */
#define MAX_ORDER 64

#define FNV_OFFSET 0xCBF29CE484222325ULL /* FNV-1a, 64 bit (Fowler, Noll, Vo) */
#define FNV_PRIME 0x100000001B3ULL
#define MULT 0x9E3779B97F4A7C15ULL /* Fibonacci hashing (Knuth, TAOCP 6.4) */

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch((p), 0, 1)
#else
#define PREFETCH(p) ((void)0)
#endif

enum { SPLIT_NONE = 0, SPLIT_SPACES = 1, SPLIT_WORD = 2 };
enum { N_VIEWS = 7 };

typedef struct {
    PyObject_HEAD
    Py_buffer views[N_VIEWS]; /* meta, chars, vocab_offsets, vocab_table, logprob, backoff, table */
    int n_views;              /* how many views are held (released on dealloc) */
    int64_t V, N;
    int split;
    const uint8_t *chars;
    Py_ssize_t n_chars;
    const int64_t *offs;   /* (V+1,) */
    const int64_t *vtable; /* (2^vbits,) */
    int vbits;
    uint64_t vmask;
    const double *lp, *bo; /* unigrams first: lp[w], bo[w] for w < V */
    const int64_t *table;
    int64_t base[MAX_ORDER + 1]; /* start of the order-k table (k >= 2) */
    int bits[MAX_ORDER + 1];
} Scorer;

/* ---------------------------------------------------------------- the lookups (packed.py) */

static inline uint64_t fnv(const uint8_t *p, Py_ssize_t n)
{
    uint64_t h = FNV_OFFSET;
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

static inline uint64_t slot(uint64_t h, int bits) { return (h * MULT) >> (64 - bits); }

static inline double as_double(int64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* packed.word_id: the id of the word p[0:n] starting from its slot s; 0 (<unk>) when absent */
static int64_t word_id(const Scorer *m, uint64_t s, const uint8_t *p, Py_ssize_t n)
{
    for (uint64_t it = 0; it <= m->vmask; it++) {
        int64_t i = m->vtable[s];
        if (i < 0 || i >= m->V)
            return 0;
        int64_t c = m->offs[i];
        /* word i is chars[c : offs[i+1] - 1]; the length test wraps like numba's int64 */
        if (c >= 0 && (uint64_t)m->offs[i + 1] - 1u - (uint64_t)c == (uint64_t)n &&
            c <= m->n_chars - n && memcmp(m->chars + c, p, (size_t)n) == 0)
            return i;
        s = (s + 1) & m->vmask;
    }
    return 0;
}

/* packed.find: the row of key in the order-k table, or -1 */
static inline int64_t find(const Scorer *m, int k, int64_t key)
{
    const int width = k < m->N ? 3 : 2;
    const int64_t *t = m->table + m->base[k];
    const uint64_t mask = ((uint64_t)1 << m->bits[k]) - 1;
    uint64_t h = slot((uint64_t)key, m->bits[k]);
    for (uint64_t it = 0; it <= mask; it++) {
        int64_t tk = t[h * width];
        if (tk == key)
            return (int64_t)h;
        if (tk == -1)
            return -1;
        h = (h + 1) & mask;
    }
    return -1;
}

static inline int64_t ngram_key(const Scorer *m, int64_t row, int64_t w)
{
    return (int64_t)((uint64_t)row * (uint64_t)m->V + (uint64_t)w); /* row(context) * V + word */
}

/* packed.step: log10 p(w | state) and the order matched; fills the next state (cur, cur_bo).
 * State (KenLM's): prev[k] the row of the k-gram ending at the previous word (its id at k = 1;
 * -1 if unlisted), prev_bo[k] its log10 backoff. */
static double step(const Scorer *m, int64_t w, int64_t w_next, const int64_t *prev,
                   const double *prev_bo, int64_t *cur, double *cur_bo, int *longest_out)
{
    const int N = (int)m->N;
    if (w_next >= 0 && N >= 2) /* the next word's bigram row: its context is w */
        PREFETCH(m->table + m->base[2] + slot((uint64_t)ngram_key(m, w, w_next), m->bits[2]) * (2 < N ? 3 : 2));
    /* every key of this word is known from the previous state: ask for all their rows at once,
     * so the cache misses of the orders overlap instead of following one another */
    for (int k = 2; k <= N && prev[k - 1] >= 0; k++)
        PREFETCH(m->table + m->base[k] +
                 slot((uint64_t)ngram_key(m, prev[k - 1], w), m->bits[k]) * (k < N ? 3 : 2));
    cur[1] = w;
    cur_bo[1] = m->bo[w];
    double s = m->lp[w];
    int longest = 1;
    for (int k = 2; k <= N; k++) {
        cur[k] = -1;
        cur_bo[k] = 0.0;
    }
    for (int k = 2; k <= N; k++) { /* KenLM stops at the first miss too */
        if (prev[k - 1] < 0)
            break;
        int64_t r = find(m, k, ngram_key(m, prev[k - 1], w));
        if (r < 0)
            break;
        const int64_t *row = m->table + m->base[k] + r * (k < N ? 3 : 2);
        cur[k] = r;
        if (w_next >= 0 && k < N) /* the next word's (k+1)-gram row: its context is this one */
            PREFETCH(m->table + m->base[k + 1] +
                     slot((uint64_t)ngram_key(m, r, w_next), m->bits[k + 1]) * (k + 1 < N ? 3 : 2));
        s = as_double(row[1]);
        if (k < N)
            cur_bo[k] = as_double(row[2]);
        longest = k;
    }
    for (int j = longest; j < N; j++) /* backoffs of the contexts longer than the match */
        if (prev[j] >= 0)
            s += prev_bo[j];
    *longest_out = longest;
    return s;
}

/* ------------------------------------------------------------------- where tokens come from */

typedef struct {
    const uint8_t *p, *end; /* a str's UTF-8 bytes, split by `split` */
    int split;
    PyObject **items; /* or a list of token strs */
    Py_ssize_t n_items, i;
} Source;

/* bytes of the separator at p (0: none). `spaces`: space, tab, CR. `word`: ASCII 9-13 and
 * 0x1C-0x20, U+0085 U+00A0 (C2 xx), U+1680 (E1 9A 80), U+2000-U+200A U+2028 U+2029 U+202F
 * (E2 80 xx), U+205F (E2 81 9F), U+3000 (E3 80 80). A lead byte never occurs inside another
 * character in valid UTF-8, so matching at any byte is matching at character starts. */
static inline int separator(const uint8_t *p, const uint8_t *end, int split)
{
    const uint8_t c = p[0];
    if (split == SPLIT_SPACES)
        return c == ' ' || c == '\t' || c == '\r';
    if (c < 0x80)
        return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20);
    if (c == 0xC2)
        return end - p >= 2 && (p[1] == 0x85 || p[1] == 0xA0) ? 2 : 0;
    if (c < 0xE1 || c > 0xE3 || end - p < 3)
        return 0;
    if (c == 0xE1)
        return p[1] == 0x9A && p[2] == 0x80 ? 3 : 0;
    if (c == 0xE3)
        return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;
    if (p[1] == 0x80)
        return p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;
    return p[1] == 0x81 && p[2] == 0x9F ? 3 : 0;
}

/* the next token: 1 (tok, n set), 0 at the end, -1 with a Python error set */
static int next_token(Source *src, const uint8_t **tok, Py_ssize_t *n)
{
    if (src->items == NULL) {
        const uint8_t *p = src->p, *end = src->end;
        int k;
        while (p < end && (k = separator(p, end, src->split)) > 0)
            p += k;
        if (p >= end) {
            src->p = p;
            return 0;
        }
        const uint8_t *a = p;
        while (p < end && separator(p, end, src->split) == 0)
            p++;
        *tok = a;
        *n = p - a;
        src->p = p;
        return 1;
    }
    if (src->i >= src->n_items)
        return 0;
    PyObject *t = src->items[src->i++];
    if (!PyUnicode_Check(t)) {
        PyErr_Format(PyExc_TypeError, "tokens must be str, got %.100s", Py_TYPE(t)->tp_name);
        return -1;
    }
    const char *u = PyUnicode_AsUTF8AndSize(t, n); /* cached in the str: no copy after once */
    if (u == NULL)
        return -1;
    *tok = (const uint8_t *)u;
    return 1;
}

/* Source of one sentence: a str (split natively) or a sequence of token strs. On success
 * *hold is the new reference that keeps the items alive (or NULL). */
static int open_source(const Scorer *m, PyObject *sentence, Source *src, PyObject **hold)
{
    memset(src, 0, sizeof *src);
    *hold = NULL;
    if (PyUnicode_Check(sentence)) {
        if (m->split == SPLIT_NONE) {
            PyErr_SetString(PyExc_TypeError, "this model's tokenizer is not native: pass tokens");
            return -1;
        }
        Py_ssize_t n;
        const char *u = PyUnicode_AsUTF8AndSize(sentence, &n);
        if (u == NULL)
            return -1;
        src->p = (const uint8_t *)u;
        src->end = src->p + n;
        src->split = m->split;
        return 0;
    }
    PyObject *seq = PySequence_Fast(sentence, "a sentence must be a str or a sequence of strs");
    if (seq == NULL)
        return -1;
    src->items = PySequence_Fast_ITEMS(seq);
    src->n_items = PySequence_Fast_GET_SIZE(seq);
    *hold = seq;
    return 0;
}

/* The scored words of a Source, one ahead: literal <s> </s> dropped (as encode() does), </s>
 * at the end if eos; the word table slot of the token after that already asked for. */
typedef struct {
    Source *src;
    const uint8_t *tok;
    Py_ssize_t n;
    uint64_t s;
    int have, eos;
} Words;

static void words_hash(const Scorer *m, Words *r)
{
    if (r->have > 0) {
        r->s = slot(fnv(r->tok, r->n), m->vbits);
        PREFETCH(m->vtable + r->s);
    }
}

/* the next scored word's id; -1 at the end, -2 with a Python error set */
static int64_t next_word(const Scorer *m, Words *r)
{
    while (r->have > 0) {
        int64_t w = word_id(m, r->s, r->tok, r->n);
        r->have = next_token(r->src, &r->tok, &r->n);
        words_hash(m, r);
        if (w != 1 && w != 2)
            return w;
    }
    if (r->have < 0)
        return -2;
    if (r->eos) {
        r->eos = 0;
        return 2;
    }
    return -1;
}

/* packed.score_bytes over a Source: after <s>, each scored word. Per word, with out_lp
 * non-NULL: out_lp/out_len/out_id[m] (m = -1 past cap). The next word is looked up before the
 * current one is scored, so the rows it will need are asked for as soon as their contexts are
 * found. */
static int score_source(const Scorer *m, Source *src, int eos, double *out_lp, int64_t *out_len,
                        int64_t *out_id, Py_ssize_t cap, Py_ssize_t *m_out, double *total_out)
{
    int64_t a[MAX_ORDER + 1], b[MAX_ORDER + 1];
    double a_bo[MAX_ORDER + 1], b_bo[MAX_ORDER + 1];
    int64_t *prev = a, *cur = b;
    double *prev_bo = a_bo, *cur_bo = b_bo;
    for (int k = 0; k <= m->N; k++) {
        prev[k] = -1;
        prev_bo[k] = 0.0;
    }
    prev[1] = 1; /* <s> */
    prev_bo[1] = m->bo[1];
    double total = 0.0;
    Py_ssize_t count = 0;
    Words r = {src, NULL, 0, 0, 0, eos};
    r.have = next_token(src, &r.tok, &r.n);
    words_hash(m, &r);
    int64_t w = next_word(m, &r);
    while (w >= 0) {
        int64_t w_next = next_word(m, &r);
        if (w_next == -2)
            return -1;
        int longest;
        double s = step(m, w, w_next, prev, prev_bo, cur, cur_bo, &longest);
        if (out_lp != NULL) {
            if (count >= cap) {
                *m_out = -1;
                *total_out = total;
                return 0;
            }
            out_lp[count] = s;
            out_len[count] = longest;
            out_id[count] = w;
        }
        total += s;
        count++;
        int64_t *t = prev; /* the state moves on: swap instead of copying */
        prev = cur;
        cur = t;
        double *tb = prev_bo;
        prev_bo = cur_bo;
        cur_bo = tb;
        w = w_next;
    }
    if (w == -2)
        return -1;
    *m_out = count;
    *total_out = total;
    return 0;
}

static int score_one(const Scorer *m, PyObject *sentence, int eos, double *total)
{
    Source src;
    PyObject *hold;
    Py_ssize_t count;
    if (open_source(m, sentence, &src, &hold) < 0)
        return -1;
    int rc = score_source(m, &src, eos, NULL, NULL, NULL, 0, &count, total);
    Py_XDECREF(hold);
    return rc;
}

/* ------------------------------------------------------------------------- the Python type */

/* a contiguous view of obj holding at least `need` items of `item` bytes, aligned for them */
static int get_view(PyObject *obj, Py_buffer *v, Py_ssize_t item, Py_ssize_t need, int writable,
                    const char *what)
{
    if (PyObject_GetBuffer(obj, v, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (v->len % item || v->len / item < need || ((uintptr_t)v->buf % (uintptr_t)item)) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, need %zd aligned items of %zd bytes",
                     what, v->len, need, item);
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

static void Scorer_dealloc(Scorer *self)
{
    for (int i = 0; i < self->n_views; i++)
        PyBuffer_Release(&self->views[i]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int fail_init(Scorer *self, const char *msg)
{
    PyErr_SetString(PyExc_ValueError, msg);
    (void)self;
    return -1;
}

/* Scorer(meta, chars, vocab_offsets, vocab_table, logprob, backoff, table, split) */
static int Scorer_init(Scorer *self, PyObject *args, PyObject *kw)
{
    PyObject *o[N_VIEWS];
    int split;
    if (self->n_views) {
        PyErr_SetString(PyExc_TypeError, "Scorer is initialised once");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOOOOOOi:Scorer", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &split))
        return -1;
    if (split < SPLIT_NONE || split > SPLIT_WORD)
        return fail_init(self, "split must be 0 (none), 1 (spaces) or 2 (word)");
    Py_buffer *v = self->views;
    if (get_view(o[0], &v[0], 8, 3, 0, "meta") < 0)
        return -1;
    self->n_views = 1;
    const int64_t *meta = v[0].buf;
    int64_t V = meta[0], N = meta[1], vbits = meta[2];
    if (N < 1 || N > MAX_ORDER || V < 3 || V >= ((int64_t)1 << 31) || vbits < 1 || vbits > 40)
        return fail_init(self, "meta: order, vocabulary size or word table bits out of range");
    if (v[0].len / 8 != 3 * N + 7)
        return fail_init(self, "meta: length disagrees with the order");
    const int64_t *t_off = meta + 3 + (N + 1), *t_bits = meta + 3 + 2 * N + 3;
    /* chars, vocab_offsets, vocab_table, logprob, backoff, table */
    const Py_ssize_t item[N_VIEWS] = {8, 1, 8, 8, 8, 8, 8};
    const Py_ssize_t need[N_VIEWS] = {0, 0, V + 1, (Py_ssize_t)1 << vbits, V, V, 0};
    static const char *names[N_VIEWS] = {"meta", "chars", "vocab_offsets", "vocab_table",
                                         "logprob", "backoff", "table"};
    for (int i = 1; i < N_VIEWS; i++) {
        if (get_view(o[i], &v[i], item[i], need[i], 0, names[i]) < 0)
            return -1;
        self->n_views = i + 1;
    }
    Py_ssize_t table_len = v[6].len / 8;
    for (int k = 2; k <= N; k++) {
        int64_t width = k < N ? 3 : 2;
        if (t_bits[k] < 1 || t_bits[k] > 40 || t_off[k] < 0 ||
            t_off[k] > table_len - (((int64_t)1 << t_bits[k]) * width))
            return fail_init(self, "meta: an n-gram table lies outside the table array");
        self->base[k] = t_off[k];
        self->bits[k] = (int)t_bits[k];
    }
    self->V = V;
    self->N = N;
    self->split = split;
    self->chars = v[1].buf;
    self->n_chars = v[1].len;
    self->offs = v[2].buf;
    self->vtable = v[3].buf;
    self->vbits = (int)vbits;
    self->vmask = ((uint64_t)1 << vbits) - 1;
    self->lp = v[4].buf;
    self->bo = v[5].buf;
    self->table = v[6].buf;
    return 0;
}

/* the arguments every method starts with: (sentence(s), eos, ...); eos as 0/1, -1 on error */
static int method_eos(const Scorer *self, PyObject *const *args, Py_ssize_t nargs,
                      Py_ssize_t want, const char *usage)
{
    if (nargs != want) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    if (self->n_views != N_VIEWS) {
        PyErr_SetString(PyExc_ValueError, "Scorer is not initialised");
        return -1;
    }
    return PyObject_IsTrue(args[1]);
}

/* score(sentence, eos) -> total log10 p */
static PyObject *Scorer_score(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    int eos = method_eos(self, args, nargs, 2, "score(sentence, eos)");
    double total;
    if (eos < 0 || score_one(self, args[0], eos, &total) < 0)
        return NULL;
    return PyFloat_FromDouble(total);
}

/* score_many(sentences, eos, out): out[i] = score(sentences[i], eos) (out: writable float64) */
static PyObject *Scorer_score_many(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    int eos = method_eos(self, args, nargs, 3, "score_many(sentences, eos, out)");
    if (eos < 0)
        return NULL;
    PyObject *seq = PySequence_Fast(args[0], "sentences must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t S = PySequence_Fast_GET_SIZE(seq);
    Py_buffer out;
    if (get_view(args[2], &out, 8, S, 1, "out") < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    double *o = out.buf;
    int rc = 0;
    for (Py_ssize_t i = 0; i < S && rc == 0; i++)
        rc = score_one(self, items[i], eos, &o[i]);
    PyBuffer_Release(&out);
    Py_DECREF(seq);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* score_words(sentence, eos, out_lp, out_len, out_id) -> m: per word log10 p, the order
 * matched and the word id in out_*[:m]; m = -1 when the outputs are too short */
static PyObject *Scorer_score_words(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    int eos = method_eos(self, args, nargs, 5, "score_words(sentence, eos, out_lp, out_len, out_id)");
    if (eos < 0)
        return NULL;
    Py_buffer o[3];
    int got = 0;
    for (; got < 3; got++)
        if (get_view(args[2 + got], &o[got], 8, 0, 1, "out") < 0)
            break;
    Py_ssize_t count = 0;
    double total;
    int rc = -1;
    if (got == 3) {
        Py_ssize_t cap = o[0].len / 8;
        cap = o[1].len / 8 < cap ? o[1].len / 8 : cap;
        cap = o[2].len / 8 < cap ? o[2].len / 8 : cap;
        Source src;
        PyObject *hold;
        if (open_source(self, args[0], &src, &hold) == 0) {
            rc = score_source(self, &src, eos, o[0].buf, o[1].buf, o[2].buf, cap, &count, &total);
            Py_XDECREF(hold);
        }
    }
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&o[i]);
    if (rc < 0)
        return NULL;
    return PyLong_FromSsize_t(count);
}

static PyMethodDef Scorer_methods[] = {
    {"score", (PyCFunction)(void (*)(void))Scorer_score, METH_FASTCALL,
     "score(sentence, eos) -> log10 p of a str (split natively) or a list of token strs"},
    {"score_many", (PyCFunction)(void (*)(void))Scorer_score_many, METH_FASTCALL,
     "score_many(sentences, eos, out): out[i] = score(sentences[i], eos)"},
    {"score_words", (PyCFunction)(void (*)(void))Scorer_score_words, METH_FASTCALL,
     "score_words(sentence, eos, out_lp, out_len, out_id) -> m (-1: outputs too short)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "groundup.text.ngram._scorer.Scorer",
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Scorer(meta, chars, vocab_offsets, vocab_table, logprob, backoff, table, split): "
              "the packed model's scoring pass (packed.py) over buffers it holds without a copy",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scorer",
    "The packed n-gram model's scoring pass in C (the numba kernels of packed.py are its "
    "reference).",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__scorer(void)
{
    if (PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL)
        return NULL;
    Py_INCREF(&ScorerType);
    if (PyModule_AddObject(mod, "Scorer", (PyObject *)&ScorerType) < 0 ||
        PyModule_AddIntConstant(mod, "VERSION", SCORER_VERSION) < 0 ||
        PyModule_AddIntConstant(mod, "SPLIT_SPACES", SPLIT_SPACES) < 0 ||
        PyModule_AddIntConstant(mod, "SPLIT_WORD", SPLIT_WORD) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
