"""Benchmark: ``groundup ngram build --engine spark`` on a local Spark cluster of 1 and of 2
workers, beside the single-machine ``--memory`` build: wall time, the same ARPA bytes, and
what the job moves between machines (the shuffles) and to the driver.

    .venv/bin/python benchmarks/bench_ngram_spark.py CORPUS [--order 5] [--workers 1 2]
        [--partitions 4] [--memory 1G] [--work /tmp/ngram-spark] [--out benchmarks/out/ngram_spark.json]

Each build is one child process of the real command (interpreter, JVM and cluster start
included), ``--spark-master local-cluster[W,1,2048]``: W worker JVMs of one core each, on this
machine; the shards fixed at ``--partitions`` for every W, so the runs do the same work. Spark's
event log (``PYSPARK_SUBMIT_ARGS``) gives, per stage, the tasks' summed run time, the shuffle
bytes written and read from another executor (what would cross the network), and the task
results sent to the driver. "2 workers, projected" schedules the stages' task times measured
with ONE worker (longest first) on two cores: what a second machine would buy where the two do
not share a core; a measured 2-worker row on one core shows Spark's overhead, not a speed-up.
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import load_average, markdown_table, write_json  # noqa: E402
from bench_ngram import run_child  # noqa: E402


def build(corpus: Path, args, work: Path, workers: int | None) -> dict:
    out = work / (f"spark{workers}.arpa" if workers else "local.arpa")
    cmd = [sys.executable, "-m", "groundup", "ngram", "build", str(corpus), "--order",
           str(args.order), "--memory", args.memory, "--temp-dir", str(work / "tmp"), "--json",
           "--force", "-o", str(out)]
    env = dict(os.environ, GROUNDUP_PROGRESS="0")
    events = work / f"events{workers}"
    if workers:
        events.mkdir(exist_ok=True)
        cmd += ["--engine", "spark", "--spark-master", f"local-cluster[{workers},1,2048]",
                "--spark-partitions", str(args.partitions)]
        log = {"enabled": "true", "dir": events.as_uri(), "compress": "false",
               "rolling.enabled": "false"}  # one plain JSON-lines file
        env["PYSPARK_SUBMIT_ARGS"] = " ".join(f"--conf spark.eventLog.{k}={v}" for k, v in log.items()) \
            + " pyspark-shell"
    os.environ.update(env)
    wall, rss, stdout, cpu = run_child(cmd)
    row = {"wall_s": round(wall, 1), "driver_peak_rss_mb": round(rss), "arpa": str(out),
           "summary": json.loads(stdout)}
    if workers:
        row["stages"] = stages(next(events.iterdir()))
    return row


def stages(log: Path) -> list[dict]:
    """Per stage of the event log: name, tasks, their run times (s), shuffle and result bytes."""
    by_id: dict[int, dict] = {}
    for line in log.read_text().splitlines():
        ev = json.loads(line)
        if ev["Event"] == "SparkListenerStageSubmitted":
            info = ev["Stage Info"]
            by_id.setdefault(info["Stage ID"], {"name": info["Stage Name"], "tasks": []})
        elif ev["Event"] == "SparkListenerTaskEnd" and "Task Metrics" in ev:
            m, t = ev["Task Metrics"], ev["Task Info"]
            st = by_id.setdefault(ev["Stage ID"], {"name": "?", "tasks": []})
            st["tasks"].append({
                "s": (t["Finish Time"] - t["Launch Time"]) / 1000.0,
                "shuffle_write": m["Shuffle Write Metrics"]["Shuffle Bytes Written"],
                "shuffle_remote_read": m["Shuffle Read Metrics"]["Remote Bytes Read"],
                "shuffle_local_read": m["Shuffle Read Metrics"]["Local Bytes Read"],
                "result": m["Result Size"]})
    return [dict(id=i, **s) for i, s in sorted(by_id.items())]


def makespan(times: list[float], cores: int) -> float:
    """Longest-first list scheduling of task times on ``cores`` slots."""
    slots = [0.0] * cores
    for t in sorted(times, reverse=True):
        heapq.heapreplace(slots, slots[0] + t)
    return max(slots)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--order", type=int, default=5)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--work", type=Path, default=Path("/tmp/ngram-spark"))
    ap.add_argument("--out", type=Path, default=HERE / "out" / "ngram_spark.json")
    args = ap.parse_args()
    (args.work / "tmp").mkdir(parents=True, exist_ok=True)
    load = load_average()
    t0 = time.time()
    runs = {"local": build(args.corpus, args, args.work, None)}
    for w in args.workers:
        runs[f"spark{w}"] = build(args.corpus, args, args.work, w)
    ref = Path(runs["local"]["arpa"]).read_bytes()
    rows = [["local (--memory)", runs["local"]["wall_s"], "", "", "", "yes"]]
    for w in args.workers:
        r = runs[f"spark{w}"]
        tasks = [t for s in r["stages"] for t in s["tasks"]]
        r["shuffle_write_mb"] = sum(t["shuffle_write"] for t in tasks) / 2**20
        r["shuffle_remote_read_mb"] = sum(t["shuffle_remote_read"] for t in tasks) / 2**20
        r["to_driver_mb"] = sum(t["result"] for t in tasks) / 2**20
        r["task_s"] = sum(t["s"] for t in tasks)
        r["same_bytes"] = Path(r["arpa"]).read_bytes() == ref
        rows.append([f"spark, {w} worker{'s' if w > 1 else ''} (measured)", r["wall_s"],
                     round(r["task_s"], 1), round(r["shuffle_write_mb"], 1),
                     round(r["shuffle_remote_read_mb"], 1), "yes" if r["same_bytes"] else "NO"])
    if 1 in args.workers:
        one = runs["spark1"]
        saved = sum(sum(t["s"] for t in s["tasks"]) - makespan([t["s"] for t in s["tasks"]], 2)
                    for s in one["stages"])
        runs["projected2"] = {"wall_s": round(one["wall_s"] - saved, 1), "saved_s": round(saved, 1)}
        rows.append(["spark, 2 workers (projected from 1)", runs["projected2"]["wall_s"], "", "", "", ""])
    table = markdown_table(["build", "wall s", "task s", "shuffle written MB",
                            "shuffle read remotely MB", "same ARPA bytes"], rows)
    print(f"{args.corpus.name}, order {args.order}, --memory {args.memory}, "
          f"{args.partitions} shards; load average before: {load}\n")
    print(table)
    for w in args.workers:
        print(f"\nstages, {w} worker(s):")
        print(markdown_table(["stage", "tasks", "task s", "shuffle written MB", "remote read MB",
                              "to driver MB"],
                             [[s["name"][:60], len(s["tasks"]), round(sum(t["s"] for t in s["tasks"]), 2),
                               round(sum(t["shuffle_write"] for t in s["tasks"]) / 2**20, 2),
                               round(sum(t["shuffle_remote_read"] for t in s["tasks"]) / 2**20, 2),
                               round(sum(t["result"] for t in s["tasks"]) / 2**20, 2)]
                              for s in runs[f"spark{w}"]["stages"]]))
    write_json(args.out, {"corpus": str(args.corpus), "order": args.order, "memory": args.memory,
                          "partitions": args.partitions, "load_average": load,
                          "seconds": round(time.time() - t0), "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
