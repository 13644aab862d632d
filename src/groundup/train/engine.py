"""The training loop every language model shares: truncated BPTT over a token stream.

Notation: B batch rows, T BPTT length, V vocabulary, W ranks.

One step (Zaremba et al. 2014; Williams & Peng 1990 for truncated BPTT):

    logits, h = model(x, detach(h))              x, y: (B, T); logits (B, T, V)
    loss = mean_{b,t} -log softmax(logits)[y]    (cross-entropy per token; times T for
                                                  Zaremba's sum-over-time reduction)
    g = grad(loss); g <- g * min(1, clip / ||g||)  (global-norm clipping, Pascanu et al. 2013)
    theta <- optimizer(theta, g, lr(epoch))

The hidden state flows from one segment to the next (rows are contiguous streams) but the
graph is cut, so gradients reach back at most T steps. Perplexity is exp(mean NLL per token).

What makes a run safe to kill: after every epoch (and every ``checkpoint_every`` steps) the
model, optimizer, schedule, every rank's RNG and hidden state, the data position and the
number of metric lines written go into ``DIR/checkpoint.pt`` atomically. Starting the same
command again resumes there; because the run is deterministic given those, it reaches the same
parameters as a run that was never interrupted. A non-finite loss or gradient norm stops the
run with :class:`TrainingError` before the optimizer touches the parameters, so the last
checkpoint stays the last good one.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..data.vocab import Vocab
from ..errors import ConfigError, ModelFormatError, TrainingError
from ..io import write_text
from ..utils import dumps_json, progress, seed_everything, torch_threads
from . import distributed
from .batching import BPTTBatches, batchify, shard_rows
from .config import RESUMABLE_FIELDS, LMConfig, flat_config_message, flat_view, is_flat_config
from .corpus import Corpus, lm_vocab, load_lm_corpus
from .decay_groups import param_groups
from .families import FAMILIES, build_model
from .grad_checkpoint_lm import wrap as grad_checkpointed
from .payload_check import check_model_fits, check_payload
from .schedule import LRSchedule
from .state_io import TrainState, load_state, rng_state, save_state, set_rng_state

CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"
METRICS = "metrics.jsonl"
FINAL = "final.json"


# --- set-up checks ---------------------------------------------------------------------------
def resolve_device(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} requested but CUDA is not available here")
    return torch.device(name)


def check_fits(cfg: LMConfig, corpus: Corpus, world_size: int = 1) -> None:
    """Refuse, up front and by name, a config the data cannot feed."""
    n = corpus.train.numel()
    need = cfg.batch_size * (cfg.bptt + 1)
    if n < need:
        raise ConfigError(f"batch_size {cfg.batch_size} x (bptt {cfg.bptt} + 1) needs at least "
                          f"{need} training tokens; the corpus has {n}")
    if cfg.batch_size % world_size:
        raise ConfigError(f"batch_size {cfg.batch_size} must be divisible by the number of "
                          f"processes ({world_size})")
    check_model_fits(cfg, len(corpus.vocab), training=True)
    for split in ("valid", "test"):
        m = getattr(corpus, split).numel()
        if split == "test" and m == 0:  # the user gave no test file
            continue
        if m < 2 * cfg.eval_batch_size:
            raise ConfigError(f"eval_batch_size {cfg.eval_batch_size} is too large for the "
                              f"{split} split ({m} tokens; each row needs at least 2)")


def make_optimizer(cfg: LMConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer over decay / no-decay parameter groups (:mod:`.decay_groups`)."""
    from .. import optim

    params = param_groups(model, cfg.weight_decay, cfg.decay_embeddings)

    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


# --- evaluation --------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model: nn.Module, stream: torch.Tensor, batch_size: int, bptt: int,
             device: torch.device | str = "cpu") -> float:
    """Mean negative log-likelihood per token (nats) over the whole stream, state carried."""
    was_training = model.training
    model.eval()
    batches = BPTTBatches(batchify(stream, batch_size).to(device), bptt, full_only=False)
    total, count, state = 0.0, 0, None
    for x, y in batches:
        logits, state = model(x, state)                               # (B, T, V)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                 reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return total / count


def perplexity(nll: float) -> float:
    return math.exp(nll) if nll < 700 else math.inf


# --- the metric log ----------------------------------------------------------------------------
class MetricLog:
    """Append-only JSONL, one record per line; on resume cut back to the checkpoint's count."""

    def __init__(self, path: Path, keep_lines: int | None, enabled: bool) -> None:
        self.path, self.enabled, self.lines = path, enabled, 0
        if not enabled:
            return
        kept: list[str] = []
        if keep_lines and path.exists():
            kept = path.read_text(encoding="utf-8").split("\n")[:keep_lines]
        write_text(path, "".join(line + "\n" for line in kept))
        self.lines = len(kept)
        self._f = open(path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        if self.enabled:
            self._f.write(json.dumps(record) + "\n")
            self._f.flush()
            self.lines += 1

    def close(self) -> None:
        if self.enabled:
            self._f.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a kill
    return out


# --- the loop ----------------------------------------------------------------------------------
def train(cfg: LMConfig, out_dir: str | Path, *, corpus: Corpus | None = None,
          log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train ``cfg`` into ``out_dir`` (resuming from its checkpoint if there is one).

    Returns the final summary also written to ``out_dir/final.json``. Under torchrun each rank
    calls this; rank 0 writes the files.
    """
    info = distributed.setup(cfg.device)
    try:
        with torch_threads(cfg.threads):
            return _train(cfg, Path(out_dir), corpus, log, info)
    finally:
        distributed.teardown(info)


def _train(cfg: LMConfig, out: Path, corpus: Corpus | None, log, info: distributed.DistInfo) -> dict[str, Any]:
    t_start = time.perf_counter()
    if log is None:
        log = (lambda m: print(m, file=sys.stderr)) if cfg.progress and info.is_main else (lambda m: None)
    device = resolve_device(cfg.device if not (info.enabled and cfg.device == "cuda")
                            else f"cuda:{info.local_rank}")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / CHECKPOINT
    resume = load_state(ckpt_path) if ckpt_path.exists() else None
    if resume is not None:
        check_payload(resume, ckpt_path, resume=True)
        _check_resumable(cfg, resume, info, ckpt_path)

    if corpus is None:
        d = cfg.data
        corpus = load_lm_corpus(d.corpus, train_tokens=d.train_tokens, eval_tokens=d.eval_tokens,
                                text=d.text_options(), files=d.files)
    if resume is not None and list(resume["vocab"]) != corpus.vocab.itos:
        raise ConfigError(f"{ckpt_path}: the data's vocabulary differs from the checkpoint's")
    check_fits(cfg, corpus, info.world_size)
    V = len(corpus.vocab)

    seed_everything(cfg.seed)
    model = build_model(cfg.model, V).to(device)
    opt = make_optimizer(cfg, model)
    sched = LRSchedule.from_config(cfg)
    if info.enabled:
        torch.manual_seed(cfg.seed + 7919 * info.rank)  # distinct dropout masks per rank

    rows = shard_rows(batchify(corpus.train, cfg.batch_size), info.rank, info.world_size).to(device)
    batches = BPTTBatches(rows, cfg.bptt)
    n_batches = len(batches)

    # run position and history, all restored on resume
    st = TrainState()
    hidden = None
    if resume is not None:
        model.load_state_dict(resume["model"])
        opt.load_state_dict(resume["optimizer"])
        sched.load_state_dict(resume["schedule"])
        st = TrainState(**resume["position"])
        mine = resume["ranks"][info.rank]
        hidden = state_to(mine["hidden"], device)
        set_rng_state(mine["rng"])
        log(f"resuming {out} at epoch {st.epoch + 1}, batch {st.batch} (step {st.step})")
    if info.is_main:
        for stale in out.glob(".*.tmp"):  # an atomic write cut short by a kill
            stale.unlink(missing_ok=True)
    metrics = MetricLog(out / METRICS, st.metrics_lines if resume is not None else 0, info.is_main)
    net = distributed.wrap(model, info, device)
    forward = grad_checkpointed(net, cfg.grad_checkpoint)  # net itself when off
    params = [p for p in model.parameters()]

    def save_run_state() -> None:
        per_rank = distributed.gather_objects(
            {"rng": rng_state(), "hidden": state_to(hidden, "cpu")}, info)
        if info.is_main:
            st.metrics_lines = metrics.lines
            pos = st.to_dict()
            save_state(ckpt_path, {
                "format": "groundup-lm-checkpoint", "config": cfg.to_dict(),
                "vocab": list(corpus.vocab.itos), "world_size": info.world_size,
                "model": model.state_dict(), "optimizer": opt.state_dict(),
                "schedule": sched.state_dict(), "position": pos, "ranks": per_rank})
        distributed.barrier(info)

    try:
        while st.epoch < cfg.epochs and not st.done:
            epoch = st.epoch
            if st.batch == 0:
                hidden, st.epoch_loss_sum, st.epoch_loss_n = None, 0.0, 0
            net.train()
            t_epoch = time.perf_counter()
            bar = progress(total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                           disable=not (cfg.progress and info.is_main) or None)
            bar.update(st.batch)
            while st.batch < n_batches:
                i = st.batch
                lr = sched.apply(opt, st.step, epoch, i / n_batches, st.train_seconds)
                t0 = time.perf_counter()
                x, y = batches.batch(i)                                   # (B/W, T) each
                logits, hidden = forward(x, detach_state(hidden))         # (B/W, T, V)
                loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))  # mean per token
                opt.zero_grad(set_to_none=True)
                (loss * y.shape[1] if cfg.loss_reduction == "sum_over_time" else loss).backward()
                gnorm = float(torch.nn.utils.clip_grad_norm_(params, cfg.clip if cfg.clip > 0 else math.inf))
                loss_v = distributed.mean_across(loss.item(), info, device)
                # a loss whose perplexity overflows (>= 700 nats/token) has diverged as surely as NaN
                if not (math.isfinite(perplexity(loss_v)) and math.isfinite(gnorm)):
                    what = "loss" if not math.isfinite(perplexity(loss_v)) else "gradient norm"
                    bad = loss_v if what == "loss" else gnorm
                    raise TrainingError(
                        f"{what} became {bad} at epoch {epoch + 1}, step {st.step + 1} (lr {lr:g}); "
                        f"stopped; the last good checkpoint is {ckpt_path} (step "
                        f"{_saved_step(ckpt_path)})")
                opt.step()
                dt = time.perf_counter() - t0
                st.batch += 1
                st.step += 1
                st.train_seconds += dt
                st.train_tokens += x.numel() * info.world_size
                st.epoch_loss_sum += loss_v
                st.epoch_loss_n += 1
                tps = x.numel() * info.world_size / dt if dt > 0 else 0.0
                metrics.write({"kind": "step", "step": st.step, "epoch": epoch + 1,
                               "batch": st.batch, "loss": loss_v, "lr": lr,
                               "grad_norm": gnorm, "tokens_per_second": round(tps, 1)})
                bar.update(1)
                if st.step % 10 == 0 or st.batch == n_batches:
                    bar.set_postfix(loss=f"{loss_v:.3f}", ppl=f"{perplexity(loss_v):.1f}",
                                    lr=f"{lr:.3g}", tok_s=f"{st.train_tokens / st.train_seconds:.0f}")
                if cfg.checkpoint_every and st.step % cfg.checkpoint_every == 0:
                    save_run_state()
                # every rank must stop at the same step: stop when any rank is over budget
                if cfg.max_train_seconds and distributed.mean_across(
                        float(st.train_seconds >= cfg.max_train_seconds), info, device) > 0:
                    st.done, st.stop_reason = True, "time budget"
                    break
            bar.close()
            # end of epoch: validate, schedule, early stopping, best weights, checkpoint
            valid = evaluate(model, corpus.valid, cfg.eval_batch_size, cfg.bptt, device)
            if not math.isfinite(perplexity(valid)):  # the last step diverged: keep the last good files
                raise TrainingError(f"validation loss became {valid} after epoch {epoch + 1}; "
                                    f"stopped; the last good checkpoint is {ckpt_path} (step "
                                    f"{_saved_step(ckpt_path)})")
            sched.on_validation(valid)
            train_loss = st.epoch_loss_sum / max(1, st.epoch_loss_n)
            improved = valid < st.best_valid
            if improved:
                st.best_valid, st.best_epoch, st.bad_epochs = valid, epoch + 1, 0
                if info.is_main:
                    save_state(out / BEST, _model_payload(cfg, corpus.vocab, model, epoch + 1, valid))
            else:
                st.bad_epochs += 1
                if cfg.patience and st.bad_epochs >= cfg.patience and not st.done:
                    st.done, st.stop_reason = True, "early stop"
            rec = {"kind": "epoch", "epoch": epoch + 1, "step": st.step, "batches": st.batch,
                   "train_loss": train_loss, "train_perplexity": perplexity(train_loss),
                   "valid_loss": valid, "valid_perplexity": perplexity(valid),
                   "lr": sched.lr(epoch), "epoch_seconds": time.perf_counter() - t_epoch}
            st.history.append(rec)
            metrics.write(rec)
            log(f"epoch {epoch + 1}: train ppl {perplexity(train_loss):.2f}, valid ppl "
                f"{perplexity(valid):.2f}, lr {sched.lr(epoch):.4g}"
                + (f" ({st.stop_reason})" if st.done else ""))
            st.epoch, st.batch = epoch + 1, 0
            hidden = None
            save_run_state()
    finally:
        metrics.close()

    # final: the best-validation weights on valid and test
    best = load_state(out / BEST) if (out / BEST).exists() else None
    if best is not None:
        model.load_state_dict(best["model"])
    valid = evaluate(model, corpus.valid, cfg.eval_batch_size, cfg.bptt, device)
    test = evaluate(model, corpus.test, cfg.eval_batch_size, cfg.bptt, device) if corpus.test.numel() else None
    final = {
        "valid_perplexity": perplexity(valid), "test_perplexity": None if test is None else perplexity(test),
        "valid_loss": valid, "test_loss": test,
        "tokens_per_second": st.train_tokens / st.train_seconds if st.train_seconds else 0.0,
        "epochs": st.epoch, "best_epoch": st.best_epoch, "steps": st.step,
        "stopped_early": bool(st.done), "stop_reason": st.stop_reason,
        "train_seconds": st.train_seconds, "train_tokens": st.train_tokens,
        "wall_seconds_this_process": time.perf_counter() - t_start,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": V, "world_size": info.world_size, "device": str(device),
        "recurrent_impl": _impl_name(model),
        "optimizer_impl": f"{type(opt).__module__}.{type(opt).__name__}", "config": cfg.to_dict(),
        "history": st.history,
    }
    if info.is_main:
        write_text(out / FINAL, dumps_json(final) + "\n")
    distributed.barrier(info)
    return final


def _check_resumable(cfg: LMConfig, ckpt: dict, info: distributed.DistInfo, path: Path) -> None:
    old = ckpt.get("config", {})
    if is_flat_config(old):
        raise ModelFormatError(f"{path}: {flat_config_message(path)}")
    # A field added to the configs after the checkpoint was written is read as its default, so
    # a newer groundup resumes an older run as long as the new field keeps that default.
    defaults = flat_view(LMConfig().to_dict())
    if old.get("model", {}).get("family") in FAMILIES:
        fam = FAMILIES[old["model"]["family"]]
        defaults.update(flat_view({"model": dataclasses.asdict(fam.config())}))
    was_flat = flat_view(old)
    for k, v in flat_view(cfg.to_dict()).items():
        was = was_flat[k] if k in was_flat else defaults.get(k)
        if k not in RESUMABLE_FIELDS and was != v:
            raise ConfigError(f"{path} was written with {k}={was!r} but this run has "
                              f"{k}={v!r}; use another --out folder or the same settings")
    if ckpt.get("world_size") != info.world_size:
        raise ConfigError(f"{path} was written by {ckpt.get('world_size')} processes; this run "
                          f"has {info.world_size}")


def _model_payload(cfg: LMConfig, vocab: Vocab, model: nn.Module, epoch: int, valid: float) -> dict:
    return {"format": "groundup-lm-weights", "config": cfg.to_dict(), "vocab": list(vocab.itos),
            "model": model.state_dict(), "epoch": epoch, "valid_loss": valid}


def _saved_step(path: Path) -> str:
    try:
        return str(load_state(path)["position"]["step"])
    except Exception:
        return "none yet"


def detach_state(state: Any) -> Any:
    """Cut the graph between truncated-BPTT segments (tensors, tuples/lists of them, None)."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"cannot detach a model state of type {type(state).__name__}")


def state_to(state: Any, device: torch.device | str) -> Any:
    """A carried model state (tensors, tuples/lists of them, None) moved to ``device``."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.to(device)
    return type(state)(state_to(s, device) for s in state)


def _impl_name(model: nn.Module) -> str:
    rnn = getattr(model, "rnn", None)
    return f"{type(rnn).__module__}.{type(rnn).__name__}" if rnn is not None else type(model).__name__


# --- using a trained model ---------------------------------------------------------------------
def load_model(path: str | Path, device: str = "cpu", *, text: dict[str, Any] | None = None
               ) -> tuple[nn.Module, LMConfig, Vocab]:
    """A model from ``best.pt`` / ``checkpoint.pt`` (or the run folder holding them); ``text``
    (text options the user gave) must agree with the model's (:func:`check_same_text`)."""
    from ..data.pipeline import check_same_text

    p = Path(path)
    if p.is_dir():
        p = p / BEST if (p / BEST).exists() else p / CHECKPOINT
    payload = load_state(p)
    saved = payload.get("config") if isinstance(payload, dict) else None
    if isinstance(saved, dict) and is_flat_config(saved):  # anything else: check_payload says what
        raise ModelFormatError(f"{p}: {flat_config_message(p)}")
    cfg = check_payload(payload, p, resume=False)
    opts = check_same_text(cfg.data.text_options(), text or {}, f"model {path}")
    if opts.encoding != cfg.data.encoding:   # a reading option: the user's wins
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, encoding=opts.encoding))
    vocab = lm_vocab(None, cfg.data.text_options(), words=payload["vocab"])
    model = build_model(cfg.model, len(vocab))
    model.load_state_dict(payload["model"])
    return model.to(resolve_device(device)).eval(), cfg, vocab


def evaluate_checkpoint(path: str | Path, data: str | None = None, *, device: str = "cpu",
                        eval_tokens: int | None = None, text: dict[str, Any] | None = None) -> dict[str, Any]:
    """Valid and test perplexity of a saved model, on its own data unless ``data`` names
    another. ``text``: text options the user gave; one that differs from the model's is an error."""
    model, cfg, vocab = load_model(path, device, text=text)
    d = cfg.data
    data = data or d.corpus
    n = d.eval_tokens if eval_tokens is None else eval_tokens
    files = None if data != d.corpus else d.files   # another --data replaces the run's files
    corpus = load_lm_corpus(data, eval_tokens=n, vocab=vocab, text=d.text_options(), files=files)
    out: dict[str, Any] = {"checkpoint": str(path), "data": data or d.train}
    for split in ("valid", "test"):
        if not getattr(corpus, split).numel():
            out[f"{split}_loss"] = out[f"{split}_perplexity"] = None
            continue
        nll = evaluate(model, getattr(corpus, split), cfg.eval_batch_size, cfg.bptt, device)
        out[f"{split}_loss"] = nll
        out[f"{split}_perplexity"] = perplexity(nll)
        out[f"{split}_tokens"] = getattr(corpus, split).numel()
    return out


@torch.no_grad()
def generate(path: str | Path, n_tokens: int, *, temperature: float = 1.0, seed: int = 0,
             prompt: str = "", device: str = "cpu", text: dict[str, Any] | None = None) -> str:
    """Sample ``n_tokens`` words from the model, one at a time, carrying its state."""
    if n_tokens < 1:
        raise ConfigError(f"--tokens must be >= 1, got {n_tokens}")
    if not temperature > 0:
        raise ConfigError(f"--temperature must be > 0, got {temperature}")
    model, cfg, vocab = load_model(path, device, text=text)
    tok = cfg.data.text_options().get_tokenizer()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    words = tok(prompt) or [tok.eos or vocab.unk]     # start after an end of line
    x = torch.from_numpy(vocab.encode(words)).view(1, -1).to(device)   # (1, T)
    out: list[str] = []
    if hasattr(model, "generate"):  # a stateless model with its own cached decoding (Transformer)
        try:
            ids = model.generate(x, n_tokens, temperature=temperature, generator=gen)[0, x.shape[1]:]
        except ValueError as e:
            raise ConfigError(str(e)) from None
        out = [vocab.itos[int(i)] for i in ids]
        n_tokens = 0
    else:
        logits, state = model(x, None)
    for _ in range(n_tokens):
        probs = torch.softmax(logits[0, -1].float().cpu() / temperature, dim=-1)   # (V,)
        nxt = int(torch.multinomial(probs, 1, generator=gen))
        out.append(vocab.itos[nxt])
        logits, state = model(torch.tensor([[nxt]], device=device), state)
    j, eos = tok.joiner, tok.eos
    text = j.join(out)
    if eos is not None:
        text = text.replace(f"{j}{eos}{j}", "\n").replace(eos, "\n")
    return text.strip("\n")
