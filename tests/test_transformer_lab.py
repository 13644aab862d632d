"""Pieces of the `transformer` lab: gradient over distance, equal-size cores, the copy task,
the FLOP counts and the verdict's two outcomes."""
import copy

import pytest
import torch

from groundup.lab import transformer as lab

torch.set_num_threads(1)


def _one_unit_rnn(w: float) -> lab.SeqModel:
    model = lab.SeqModel(lab.RecurrentCore("rnn", 1, 1), vocab=3, d=1, n_out=3)
    with torch.no_grad():
        rnn = model.core.rnn
        rnn.weight_ih_l0.fill_(1.0)
        rnn.weight_hh_l0.fill_(w)
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
        model.emb.weight.fill_(1e-4)  # tiny inputs: tanh'(h) = 1 - h^2 = 1 - O(1e-8)
    return model


def test_gradient_over_distance_is_the_known_geometric_decay_of_a_tanh_rnn():
    # h_t = tanh(x_t + w h_{t-1}), so dh_T/dx_{T-k} = w^k prod tanh'(.) and with |h| ~ 2e-4
    # every tanh' is 1 within 1e-7: the norm at distance k is w^k times the one at k = 0.
    x = torch.randint(0, 3, (4, 13), generator=torch.Generator().manual_seed(0))
    for w in (0.5, -0.8):
        g = lab.grad_over_distance(_one_unit_rnn(w), x)                    # (12,)
        expected = torch.tensor([abs(w) ** k for k in range(12)], dtype=g.dtype)
        torch.testing.assert_close(g / g[0], expected, rtol=1e-6, atol=0)


def test_gradient_over_distance_does_not_change_the_model():
    torch.manual_seed(0)
    model = lab.SeqModel(lab.make_core("lstm", 8, 6), 5, 8, 5)
    before = copy.deepcopy(model.state_dict())
    lab.grad_over_distance(model, torch.randint(0, 5, (2, 7)))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_attention_reaches_every_position_in_one_step():
    torch.manual_seed(0)
    model = lab.SeqModel(lab.make_core("transformer", 16, 10), 7, 16, 7)
    g = lab.grad_over_distance(model, torch.randint(0, 7, (3, 11)))
    assert (g > 0).all()
    # at GPT-2 initialisation the attention weights are near uniform: the far positions get
    # the same gradient as the near ones within a factor of a few (k = 0 adds the residual path)
    assert g[1:].max() / g[1:].min() < 5


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_recurrent_cores_match_the_attention_core_in_parameters(kind):
    d, L = 64, 66
    target = lab.n_params(lab.AttentionCore(d, L))
    assert abs(lab.n_params(lab.make_core(kind, d, L)) - target) / target < 0.01


def test_copy_task_batches():
    x, y = lab.recall_batch(5, 3, torch.Generator().manual_seed(0))
    assert x.shape == (5, 5) and (x[:, -1] == lab.QUERY).all()
    assert torch.equal(x[:, 0] - 1, y) and y.min() >= 0 and y.max() < lab.N_VALUES
    noise = x[:, 1:-1]
    assert (noise > lab.N_VALUES).all() and (noise < lab.RECALL_VOCAB).all()


def test_flop_counts_by_hand():
    # B=1, T=2, d=1: projections 2*1*2*4*1*1 = 16, QK^T and AV 2*2*1*2*2*1 = 16; x3 fwd+bwd
    assert lab.flops_attention(1, 2, 1) == 96
    # LSTM B=1, T=2, d=H=1: 2*1*2*4*1*(1+1) = 32, x3
    assert lab.flops_lstm(1, 2, 1, 1) == 96


def test_sequential_work_and_crossover():
    cfg = lab.TransformerLabConfig(d=8, seq_batch=2, seq_lengths=(4, 8), seq_reps=1)
    rows = lab.sequential_work(cfg)["rows"]
    assert [r["T"] for r in rows] == [4, 8]
    assert all(r[n] > 0 for r in rows for n in ("groundup LSTM", "torch.nn.LSTM", "attention"))
    fake = [{"T": 4, "attention": 1.0, "rnn": 2.0}, {"T": 8, "attention": 3.0, "rnn": 2.5}]
    assert lab.crossover(fake, "rnn") == 8 and lab.crossover(fake[:1], "rnn") is None


def _figures(rate=5.0, rnn_ratio=1e6, tf_ratio=1.2, tf_far=1.0, rnn_far=0.2):
    return {
        "flops_rate_attention_over_rnn_at_min_T": {"groundup LSTM": rate, "torch.nn.LSTM": rate},
        "grad_ratio_k1_over_kmax_init": {"rnn": rnn_ratio, "lstm": 1e3, "gru": 1e2,
                                         "transformer": tf_ratio},
        "recall_accuracy_by_k": {"rnn": {"8": 0.9, "128": rnn_far}, "lstm": {"8": 1.0, "128": 0.5},
                                 "gru": {"8": 1.0, "128": 0.6}, "transformer": {"8": 1.0, "128": tf_far}},
        "crossover_T_groundup_lstm": 1024,
    }


def test_verdict_held_and_not_held():
    held, sentence = lab.verdict(_figures())
    assert held is True and sentence.startswith("Held")
    for bad in (dict(rate=1.5), dict(rnn_ratio=50), dict(tf_ratio=20), dict(tf_far=0.7),
                dict(rnn_far=0.8)):
        held, sentence = lab.verdict(_figures(**bad))
        assert held is False and sentence.startswith("Did not hold"), bad


def test_full_preset_is_larger_than_quick_where_the_claims_need_it():
    quick, full = lab.PRESETS["quick"], lab.PRESETS["full"]
    assert set(quick.seq_lengths) <= set(full.seq_lengths) and max(full.seq_lengths) == 2048
    assert set(quick.recall_gaps) <= set(full.recall_gaps) and max(full.recall_gaps) == 512
    assert full.lm_T > quick.lm_T and full.lm_seconds > quick.lm_seconds
    assert full.lm_vocab >= quick.lm_vocab and full.seq_reps >= quick.seq_reps
    # more updates and more examples per gap on the recall task
    assert full.recall_steps > quick.recall_steps
    assert (full.recall_steps * full.recall_batch / len(full.recall_gaps)
            > quick.recall_steps * quick.recall_batch / len(quick.recall_gaps))
    assert full.lm_benchmark and not quick.lm_benchmark


def _bench_record(models=("transformer", "lstm")):
    run = {"corpus": "wikitext2", "layers": 2, "parameters": 4_700_000,
           "non_embedding_parameters": 450_000, "steps": 900, "train_tokens": 921_600,
           "train_seconds": 600.0, "tokens_per_second": 1536.0, "valid_perplexity": 401.26,
           "test_perplexity": 380.04, "wall_seconds_with_eval": 700.0,
           "load_before": "1.00 2.00 3.00", "load_after": "4.50 2.00 3.00", "command": "x"}
    return {"measured": {"date": "2026-12-03", "start_utc": "11:48:35", "end_utc": "13:20:00",
                         "where": "CPU 1", "command": "benchmarks/bench_lm_compare.py --budget 600"},
            "corpus": "wikitext2", "budget_seconds": 600.0, "threads": 1, "recipe": {},
            "models": {}, "runs": [dict(run, model=m) for m in models]}


def test_benchmark_table_is_read_from_the_recorded_json(tmp_path):
    import json

    path = tmp_path / "bench.json"
    path.write_text(json.dumps(_bench_record()))
    table, test_ppl, note = lab.benchmark_lm_table(path)
    assert [r[0] for r in table.rows] == ["transformer", "lstm"]
    assert table.rows[0][-2:] == [401.3, 380.0] and test_ppl == {"transformer": 380.0, "lstm": 380.0}
    assert "not this run" in table.title and "2026-12-03" in table.title and "1.00-4.50" in table.title
    assert "bench_lm_compare.py --budget 600" in note and "11:48:35-13:20:00" in note
    # absent or unreadable: no table (quick mode never asks)
    assert lab.benchmark_lm_table(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert lab.benchmark_lm_table(tmp_path / "bad.json") is None


def test_the_shipped_600_second_table_reads():
    table, test_ppl, note = lab.benchmark_lm_table()  # assets/lm_compare_600s.json
    assert set(test_ppl) == {"transformer", "lstm-sgd", "lstm", "mamba", "rwkv", "retnet"}
    assert all(1 < p < 1e5 for p in test_ppl.values())
    assert "600 s" in table.title and "not this run" in table.title and "2026-12-03" in table.title
    assert "bench_lm_compare.py" in note
