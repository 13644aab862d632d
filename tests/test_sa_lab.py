"""The stochastic-approximation lab on reduced sizes: tables, plots, summary, verdict."""
import json

from groundup.lab import stochastic_approximation as lab


def test_reduced_lab_run_writes_its_figures(tmp_path, monkeypatch):
    from groundup.cli import main

    monkeypatch.setitem(lab.SIZES, "quick", (3000, 200, 300))
    assert main(["lab", "stochastic-approximation", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results.json").read_text())["experiments"][lab.NAME]
    s = res["summary"]
    # 200 seeds: the RMS error's relative s.e. is 5 %, so the fitted 1/k slope is within
    # about +-0.05 of -0.5; a constant step sits at its floor (slope about 0)
    assert abs(s["slope_1_over_k"] + 0.5) < 0.1 and abs(s["slope_constant"]) < 0.1
    assert s["mean_1_over_k_max_dev_from_numpy"] < 1e-12
    assert [t["rows"][0][0] for t in res["tables"]] == ["1/k", "0.1/k"]
    for plot in res["plots"]:
        assert (tmp_path / lab.NAME / plot["file"]).stat().st_size > 1000
        assert "Look for" in plot["caption"]
    assert res["verdict"] and res["criterion"] and res["held"] in (True, False)
