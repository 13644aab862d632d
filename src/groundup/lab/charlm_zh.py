"""Lab (Chinese): a character-level language model writes Tang poems, LSTM and Transformer.

Data: the bundled ``zh/tang.txt.xz`` (11,715 quatrains and regulated verses of 全唐诗, one poem a
line; see bundled/zh/README.md), every 20th poem held out for validation. Tokens: the ``char``
tokenizer (one Han character a token, ，and 。 too) and ``<eos>`` after each poem, read by the one
text pipeline from the two split files written into the experiment's folder (as
``groundup lm train --train FILE --valid FILE --tokenizer char`` reads a user's text).

Both models are groundup LMs on the one LM contract, trained by the shared engine with one recipe
(:data:`RECIPE`: AdamW, warm-up then cosine decay, width 128, output layer tied to the embedding)
for the same number of steps (quick: 500 steps of 8 x 64 characters; full: 10 epochs of 16 x 64);
equal training *time* is ``benchmarks/bench_charlm_zh.py``. The baseline is the unigram model
(add-one character frequencies of the training poems) on the same validation text. Samples are
drawn at temperature :data:`TEMPERATURE`, each poem starting after an ``<eos>``.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

from ..utils import torch_threads
from .base import Plot, Result, Table
from .catalogue import text

NAME = "charlm-zh"
TITLE = text("en", f"{NAME}.title")
CLAIM = text("en", f"{NAME}.claim")
CRITERION = text("en", f"{NAME}.criterion")

POEMS = ("zh", "tang.txt.xz")
VALID_EVERY = 20
WIDTH, BPTT = 128, 64
# the 2,000 most frequent characters (96% of the training text; the rest are <unk>, shown as □
# in samples): the output layer dominates a step's cost at this width
VOCAB = 2000
UNK_MARK = "\u25a1"
MODELS = {
    # init_range 0: the layers' own initialisation (Zaremba's U(-0.1, 0.1) kept the LSTM on the
    # unigram plateau for 400 steps in a trial run)
    "lstm": dict(model="lstm", num_layers=2, emb_size=WIDTH, hidden_size=WIDTH, tie_weights=True,
                 dropout=0.0, init_range=0.0),
    "transformer": dict(model="transformer", num_layers=2, d_model=WIDTH, n_heads=4, d_ff=4 * WIDTH,
                        max_len=BPTT, positional="learned", tie_weights=True, dropout=0.0),
}
RECIPE = dict(optimizer="adamw", lr=3e-3, weight_decay=0.0, schedule="cosine", warmup_steps=50,
              clip=1.0, batch_size=16, bptt=BPTT, eval_batch_size=16, tokenizer="char",
              max_vocab=VOCAB, progress=False)
# quick: 500 steps of 8 x 64 characters (half the full batch: more steps for the same time)
QUICK_STEPS, QUICK_BATCH, FULL_EPOCHS = 500, 8, 10
TEMPERATURE = 0.8
N_SAMPLES = 4
SMOOTH = 20          # steps in the moving mean of the plotted training loss
# the verdict's thresholds. PPL_RATIO was first written as 0.5; after a 400-step trial showed
# that out of reach it was relaxed to 0.7 before the first commit, which is tuning the criterion
# to the outcome: it is back at the value written before any run (issue 18 closing note).
PPL_RATIO, FORM_SHARE = 0.5, 0.5
_CLAUSE = re.compile(r"[，。]")


def read_poems() -> list[str]:
    """The bundled poems, one per line."""
    from ..data.locate import bundled_path, open_text

    with open_text(bundled_path(*POEMS)) as f:
        return [line.strip() for line in f if line.strip()]


def write_splits(poems: list[str], out: Path) -> dict[str, str]:
    """Every :data:`VALID_EVERY`-th poem to valid, the rest to train: two files in ``out``."""
    from ..io import write_text

    files = {}
    for split, keep in (("train", lambda i: i % VALID_EVERY != VALID_EVERY - 1),
                        ("valid", lambda i: i % VALID_EVERY == VALID_EVERY - 1)):
        files[split] = str(out / f"poems.{split}.txt")
        write_text(files[split], "\n".join(p for i, p in enumerate(poems) if keep(i)) + "\n")
    return files


def lm_config(kind: str, files: dict[str, str], *, seed: int, epochs: int = 1,
              train_tokens: int = 0, seconds: float = 0.0, threads: int = 0, **changes):
    """The run's LMConfig: :data:`RECIPE` (with ``changes``) and the model ``kind`` of
    :data:`MODELS` on ``files``."""
    from ..train.config import make_config

    return make_config(None, overrides=dict(
        RECIPE, **MODELS[kind], corpus="", train=files["train"], valid=files["valid"], seed=seed,
        epochs=epochs, train_tokens=train_tokens, max_train_seconds=seconds, threads=threads, **changes))


def unigram_perplexity(train, valid, V: int) -> float:
    """exp of the mean negative log of add-one character frequencies: the no-context baseline.
    train, valid: (N,) id tensors over a vocabulary of V ids."""
    counts = Counter(train.tolist())
    total = train.numel() + V
    nll = -sum(n * math.log((counts.get(i, 0) + 1) / total) for i, n in Counter(valid.tolist()).items())
    return math.exp(nll / valid.numel())


def form_share(poems: list[str]) -> float:
    """Share of the clauses (text between ，/。) of ``poems`` that have 5 or 7 characters."""
    clauses = [c for p in poems for c in _CLAUSE.split(p) if c]
    return sum(len(c) in (5, 7) for c in clauses) / max(len(clauses), 1)


def sample_poems(run_dir: Path, n: int, seed: int) -> list[str]:
    """``n`` poems sampled from the saved model, each from the start of a line."""
    from ..data.tokenize import UNK
    from ..train.engine import generate

    return [generate(run_dir, 2 * BPTT, temperature=TEMPERATURE, seed=seed + i).split("\n")[0]
            .replace(UNK, UNK_MARK) for i in range(n)]


def verdict(ratios: dict[str, float], forms: dict[str, float]) -> bool:
    """:data:`CRITERION`: every model below PPL_RATIO x the unigram perplexity and at least
    FORM_SHARE of its sampled clauses of 5 or 7 characters."""
    return all(ratios[k] < PPL_RATIO and forms[k] >= FORM_SHARE for k in ratios)


def run(out: Path, *, full: bool, seed: int, lang: str = "en") -> Result:
    with torch_threads(None if full else 1):
        return _run(out, full, seed, lang)


def _run(out: Path, full: bool, seed: int, lang: str) -> Result:
    from ..io import new_folder
    from ..train.corpus import load_lm_corpus
    from ..train.engine import METRICS, read_metrics, train
    from .plotting import plt, save

    T = lambda key, **kw: text(lang, f"{NAME}.{key}", **kw)   # noqa: E731
    poems = read_poems()
    files = write_splits(poems, out)
    probe = lm_config("lstm", files, seed=seed)
    corpus = load_lm_corpus("", text=probe.data.text_options(), files=files)
    V = len(corpus.vocab)
    batch = RECIPE["batch_size"] if full else QUICK_BATCH
    train_tokens = 0 if full else min(QUICK_STEPS * batch * BPTT, corpus.train.numel())
    if train_tokens:
        corpus.train = corpus.train[:train_tokens]
    uni = unigram_perplexity(corpus.train, corpus.valid, V)
    finals, samples, ratios, forms = {}, {}, {}, {}
    for kind in MODELS:
        cfg = lm_config(kind, files, seed=seed, epochs=FULL_EPOCHS if full else 1, train_tokens=train_tokens,
                        batch_size=batch)
        run_dir = new_folder(out, f"run-{kind}")
        finals[kind] = final = train(cfg, run_dir, corpus=corpus, log=lambda m: None)
        samples[kind] = sample_poems(run_dir, N_SAMPLES, seed)
        ratios[kind] = final["valid_perplexity"] / uni
        forms[kind] = form_share(samples[kind])
    held = verdict(ratios, forms)

    rows = [[kind, f"{finals[kind]['parameters']:,}", finals[kind]["steps"],
             f"{finals[kind]['train_tokens']:,}", f"{finals[kind]['valid_perplexity']:.1f}",
             f"{ratios[kind]:.2f}", f"{forms[kind]:.0%}"] for kind in MODELS]
    rows.append([T("unigram"), "", "", f"{corpus.train.numel():,}", f"{uni:.1f}", "1.00", ""])
    tables = [Table(T("table_ppl", poems=len(poems), valid=corpus.valid.numel(), V=V),
                    T("headers_ppl").split("|"), rows),
              Table(T("table_samples", temperature=TEMPERATURE), T("headers_samples").split("|"),
                    [[kind, p] for kind in MODELS for p in samples[kind]])]

    fig, ax = plt().subplots(figsize=(5.5, 3.6))
    for kind in MODELS:
        steps = [r for r in read_metrics(out / f"run-{kind}" / METRICS) if r.get("kind") == "step"]
        w = max(1, min(SMOOTH, len(steps)))
        loss = np.convolve([r["loss"] for r in steps], np.ones(w) / w, mode="valid")   # moving mean
        ax.plot([r["step"] for r in steps][w - 1:], np.exp(loss), label=f"{kind} (training)")
        ax.plot([finals[kind]["steps"]], [finals[kind]["valid_perplexity"]], "o", color=ax.lines[-1].get_color())
    ax.axhline(uni, color="grey", ls=":", label="unigram (validation)")
    ax.set_yscale("log")
    ax.set_xlabel("training steps")
    ax.set_ylabel("perplexity per character")
    ax.set_title("Tang poems, character-level LMs")
    ax.legend(fontsize=8)
    plots = [Plot(save(fig, out / "charlm_perplexity.png"), T("caption_ppl"))]

    summary = {"poems": len(poems), "vocab": V, "train_tokens": corpus.train.numel(),
               "valid_tokens": corpus.valid.numel(), "unigram_valid_ppl": round(uni, 2),
               "temperature": TEMPERATURE}
    for kind in MODELS:
        summary.update({f"{kind}_valid_ppl": round(finals[kind]["valid_perplexity"], 2),
                        f"{kind}_ppl_ratio": round(ratios[kind], 3),
                        f"{kind}_form_share": round(forms[kind], 3),
                        f"{kind}_parameters": finals[kind]["parameters"],
                        f"{kind}_steps": finals[kind]["steps"],
                        f"{kind}_train_seconds": round(finals[kind]["train_seconds"], 1),
                        f"{kind}_samples": samples[kind]})
    word = T("held" if held else "not_held")
    v = T("verdict", word=word, lstm=finals["lstm"]["valid_perplexity"],
          transformer=finals["transformer"]["valid_perplexity"], uni=uni,
          lstm_form=forms["lstm"], transformer_form=forms["transformer"])
    return Result(name=NAME, title=T("title"), claim=T("claim"), verdict=v, held=held,
                  criterion=T("criterion"), summary=summary, tables=tables, plots=plots,
                  notes=[T("note_recipe", steps=finals["lstm"]["steps"], batch=batch), T("note_bench")])
