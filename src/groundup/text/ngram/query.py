"""Streaming query: KenLM ``query``'s report for every line of files or standard input.

KenLM's ``query`` (lm/ngram_query.hh, ``QueryPrinter``) prints, per line,
``word=ID LENGTH LOG10P<TAB>`` for every scored token (``</s>`` included; an OOV has id 0;
LENGTH is the order of the n-gram matched), then ``Total: LOG10P OOV: COUNT``, and at the end
the perplexity including and excluding OOVs, the OOV count and the token count. We print the
same (floats with 6 significant digits, as its ``ostream`` does), or with ``json_lines`` one
JSON object per sentence and a last one with the summary.

Lines are read, scored and printed one at a time (:func:`groundup.data.textfile.iter_lines`
streams), so memory does not grow with the input. Conventions as :mod:`.model`: ``<s>`` is
context only, ``</s>`` is a token, literal ``<s>``/``</s>`` are dropped, ``<unk>`` and unknown
words are OOVs, and perplexity = 10^(-sum log10 p / tokens).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Iterable

import numpy as np

from ...data.pipeline import TextOptions
from .corpus import BOS, EOS, UNK_ID


@dataclass
class Totals:
    """Running sums over the scored tokens (the summary KenLM prints at the end)."""

    log10_prob: float = 0.0
    log10_prob_oov: float = 0.0  # the OOV tokens' share of log10_prob
    tokens: int = 0
    oov: int = 0
    sentences: int = 0

    def add(self, lp: np.ndarray, ids: np.ndarray) -> tuple[float, int]:
        oov_mask = ids == UNK_ID
        total = float(lp.sum())
        oov = int(oov_mask.sum())
        self.log10_prob += total
        self.log10_prob_oov += float(lp[oov_mask].sum())
        self.tokens += len(lp)
        self.oov += oov
        self.sentences += 1
        return total, oov

    def summary(self) -> dict:
        from .model import _ppl

        return {"perplexity": _ppl(self.log10_prob, self.tokens),
                "perplexity_excl_oov": _ppl(self.log10_prob - self.log10_prob_oov,
                                            self.tokens - self.oov),
                "oov": self.oov, "tokens": self.tokens, "sentences": self.sentences,
                "log10_prob": self.log10_prob}


def query(model, files: Iterable[str], text: TextOptions, out: IO[str], *, words: bool = False,
          json_lines: bool = False, sentences: bool = True) -> int:
    """Score every line of ``files`` (``-`` = standard input) and print the report to ``out``."""
    from ...data.textfile import iter_lines

    tok = text.get_tokenizer()
    totals = Totals()
    for path in files:
        for line in iter_lines(path):
            toks = tok(line)
            lp, length, ids = model.score_tokens(toks)
            total, oov = totals.add(lp, ids)
            if not sentences:
                continue
            surface = [t for t in toks if t != BOS and t != EOS] + [EOS] if words else []
            if json_lines:
                rec = {"log10_prob": total, "oov": oov, "tokens": len(lp)}
                if words:
                    rec["words"] = [{"word": w, "id": int(i), "ngram_length": int(n),
                                     "log10_prob": float(p)}
                                    for w, i, n, p in zip(surface, ids, length, lp)]
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                if words:
                    out.write("".join(f"{w}={int(i)} {int(n)} {float(p):.6g}\t"
                                      for w, i, n, p in zip(surface, ids, length, lp)))
                out.write(f"Total: {total:.6g} OOV: {oov}\n")
    s = totals.summary()
    if json_lines:
        out.write(json.dumps({"summary": s}) + "\n")
    else:
        out.write(f"Perplexity including OOVs:\t{s['perplexity']:.6g}\n"
                  f"Perplexity excluding OOVs:\t{s['perplexity_excl_oov']:.6g}\n"
                  f"OOVs:\t{s['oov']}\nTokens:\t{s['tokens']}\n")
    out.flush()
    return 0
