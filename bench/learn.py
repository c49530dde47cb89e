"""Learned routing and kinds: training cost, accuracy against a baseline, prediction, intake.

Run by hand (never part of `make test`); record the printed figures in bench/RESULTS.md.

1. Training on N rows (default 50,000) of the synthetic dispatch history (tests/data/
   dispatch.py, ~200 agencies): wall time and peak memory (resident set) of
   `train_text_model`, in a child process so the memory figure is its own.
2. On a separate test history: top-1, top-3, coverage and precision at the recommended
   threshold, next to an off-the-shelf baseline (word TF-IDF + LinearSVC calibrated with
   scikit-learn's CalibratedClassifierCV, threshold chosen on held-out training data too).
3. Prediction time per report (mean, p50, p99) with numpy alone (the core install's path).
4. Web-form intake throughput, closed loop, without and with the models on (a learned
   routing rule plus the kind model), side by side, using bench/intake.py's servers, and
   the server process's CPU milliseconds per request (robust to other load on the machine).
5. `--instructions MODEL`: instructions per web-form request without and with the models,
   counted by valgrind's callgrind in one process each (the same on a busy machine as on
   a quiet one; needs `valgrind`): the request alone, and the request plus the forward
   worker's claim and the models' decision (not its call to the central).
6. `--wrk MODEL`: intake over HTTP loaded by wrk, gateways served as `web` and as `run`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _history(rows: int, seed: int) -> tuple[list[str], list[str]]:
    from tests.data import dispatch

    mapping = {k.casefold(): v for k, v in dispatch.mapping().items()}
    texts, labels, seen = [], [], set()
    for text, label in dispatch.history(rows, seed):
        code = mapping.get(label.casefold())
        if text.strip() and code and text not in seen:
            seen.add(text)
            texts.append(text)
            labels.append(code)
    return texts, labels


def _train_child(rows: int, out: str, queue: Any) -> None:
    from normalizer.learn.model import save_model
    from normalizer.learn.train import train_text_model

    texts, labels = _history(rows, 1)
    start = time.perf_counter()
    model = train_text_model(texts, labels, task="routing")
    seconds = time.perf_counter() - start
    save_model(model, out)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "rows": len(texts),
            "labels": len(model.labels),
            "seconds": seconds,
            "peak_mib": peak_mib,
            "threshold": model.threshold,
            "cv": model.meta["cv"],
        }
    )


def train(rows: int, out: Path) -> dict[str, Any]:
    """Train in a child process; its wall time and peak memory."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_train_child, args=(rows, str(out), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return dict(result)


def _at(probs: Any, truth: Any, threshold: float | None) -> dict[str, float]:
    import numpy as np

    best, conf = probs.argmax(axis=1), probs.max(axis=1)
    acted = conf >= (threshold if threshold is not None else 2.0)
    return {
        "top1": float((best == truth).mean()),
        "top3": float((np.argsort(-probs, axis=1)[:, :3] == truth[:, None]).any(axis=1).mean()),
        "threshold": threshold or float("nan"),
        "coverage": float(acted.mean()),
        "precision": float((best == truth)[acted].mean()) if acted.any() else float("nan"),
    }


def baseline(train_rows: int, texts: list[str], labels: list[str]) -> dict[str, float]:
    """Off-the-shelf: word TF-IDF, LinearSVC, CalibratedClassifierCV (sigmoid, 3 folds)."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split
    from sklearn.svm import LinearSVC

    from normalizer.learn.metrics import threshold_for_precision

    tr_texts, tr_labels = _history(train_rows, 1)
    fit_x, hold_x, fit_y, hold_y = train_test_split(
        tr_texts, tr_labels, test_size=0.2, random_state=0
    )
    counts = Counter(fit_y)  # CalibratedClassifierCV needs 3 rows of every label
    fit_x = [x for x, y in zip(fit_x, fit_y, strict=True) if counts[y] >= 3]
    fit_y = [y for y in fit_y if counts[y] >= 3]
    pipe_vec = TfidfVectorizer(sublinear_tf=True, min_df=2)
    clf = CalibratedClassifierCV(LinearSVC(C=1.0), cv=3).fit(pipe_vec.fit_transform(fit_x), fit_y)
    hold = clf.predict_proba(pipe_vec.transform(hold_x))
    hold_truth = np.array(
        [list(clf.classes_).index(y) if y in clf.classes_ else -1 for y in hold_y]
    )
    threshold = threshold_for_precision(hold.max(axis=1), hold.argmax(axis=1) == hold_truth, 0.95)
    probs = clf.predict_proba(pipe_vec.transform(texts))
    truth = np.array([list(clf.classes_).index(y) if y in clf.classes_ else -1 for y in labels])
    return _at(probs, truth, threshold)


def evaluate(model_path: Path, texts: list[str], labels: list[str]) -> dict[str, float]:
    """The trained model on the test history, and its prediction time per report."""
    import numpy as np

    from normalizer.learn.model import load_model

    model = load_model(model_path)
    model.probabilities(texts[0])  # warm-up: the first call pays numpy's one-off costs
    timings, rows = [], []
    for text in texts:
        start = time.perf_counter()
        rows.append(model.probabilities(text))
        timings.append(time.perf_counter() - start)
    index = {label: i for i, label in enumerate(model.labels)}
    truth = np.array([index.get(label, -1) for label in labels])
    figures = _at(np.array(rows), truth, model.threshold)
    timings.sort()
    figures.update(
        predict_mean_ms=statistics.fmean(timings) * 1000,
        predict_p50_ms=timings[len(timings) // 2] * 1000,
        predict_p99_ms=timings[int(len(timings) * 0.99)] * 1000,
    )
    return figures


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _configs(model_path: Path, central: str = "http://127.0.0.1:9") -> dict[str, Path]:
    """Two gateway configs alike but for the models: a keyword rule, or a learned rule + kinds."""
    from normalizer.learn.model import load_model

    os.environ.setdefault("CENTRAL_TOKEN", "bench-token-not-a-secret")  # servers inherit it
    tmp = Path(tempfile.mkdtemp(prefix="sp4n-learn-"))
    agencies = "".join(
        f"  - {{code: {code}, name: {code}, parent: nasional}}\n"
        for code in load_model(model_path).labels
    )
    configs: dict[str, Path] = {}
    for name, rule, kinds in (
        ("without models", "    - {when: {keywords: [jalan]}, agency: nasional}\n", "false"),
        (
            "with models",
            f"    - {{learned: {{model: {model_path}}}, agency: from_model}}\n",
            "true",
        ),
    ):
        folder = tmp / name.replace(" ", "-")
        folder.mkdir()
        config = folder / "gateway.yaml"
        config.write_text(
            f'gateway: {{database: "sqlite:///{folder}/g.db", data_dir: "{folder}",'
            " log_level: WARNING}\n"
            f'central: {{url: "{central}", token: "${{CENTRAL_TOKEN}}"}}\n'
            # The status sync reads the sandbox's whole changes feed: in a "run" server it
            # would work through other servers' rounds; intake and forwarding are measured.
            "forwarder: {interval: 0.5, sync_interval: 1h}\n"
            f"agencies:\n  - {{code: nasional, name: Nasional}}\n{agencies}"
            f"routing:\n  default: nasional\n  rules:\n{rule}"
            f"normalizer: {{kind_model: {{enabled: {kinds}}}}}\n"
            "channels:\n  - {name: web, type: webform}\n",
            encoding="utf-8",
        )
        configs[name] = config
    return configs


def in_process(model_path: Path, requests_total: int, blocks: int) -> dict[str, float]:
    """CPU ms per web-form request, both configs in one process, alternating blocks.

    No HTTP and no client threads: Flask's test client posts straight into the app and
    the process's CPU clock (the intake writer thread included) is read around each
    block. Alternating blocks of the two configs cancel drift from other load.
    """
    import intake as bench_intake  # bench/intake.py

    from config.loader import load_config
    from gateway.app import create_app
    from gateway.logging_setup import configure_logging
    from gateway.runtime import build_runtime

    configure_logging("WARNING")
    bench_intake._quiet()
    clients = {
        name: create_app(build_runtime(load_config(str(path)))).test_client()
        for name, path in _configs(model_path).items()
    }
    spent = dict.fromkeys(clients, 0.0)
    per_block = max(1, requests_total // blocks)
    # Real-looking complaints, every one different, so no cache answers for the models.
    texts, _ = _history(per_block * blocks + 100, 11)
    bodies = iter(texts * 3)
    headers = {"Content-Type": "application/json"}

    def payload(serial: int) -> bytes:
        return json.dumps(
            {"body": next(bodies), "name": "Warga", "phone": "081234567890",
             "external_id": f"learn-{serial}"}
        ).encode()  # fmt: skip

    serial = 0
    for client in clients.values():  # warm-up: model loading, caches, first queries
        for _ in range(100):
            serial += 1
            client.post("/channels/web/inbound", data=payload(serial), headers=headers)
    for _ in range(blocks):
        for name, client in clients.items():
            started = time.process_time()
            for _ in range(per_block):
                serial += 1
                answer = client.post("/channels/web/inbound", data=payload(serial), headers=headers)
                assert answer.status_code == 201, answer.status_code
            spent[name] += time.process_time() - started
    return {
        name: round(seconds * 1000 / (per_block * blocks), 3) for name, seconds in spent.items()
    }


def _post_only(model_path: Path, name: str, requests_total: int, settle: bool) -> None:
    """Child of `instructions`: one config's app in this process, `requests_total` posts.

    With `settle`, then the forward worker's passes over them up to the call to the central:
    the claim, and the models' decision (`Forwarder.prepare`).
    """
    import intake as bench_intake  # bench/intake.py

    from config.loader import load_config
    from gateway.app import create_app
    from gateway.logging_setup import configure_logging
    from gateway.runtime import build_runtime

    configure_logging("WARNING")
    bench_intake._quiet()
    runtime = build_runtime(load_config(str(_configs(model_path)[name])))
    client = create_app(runtime).test_client()
    texts, _ = _history(requests_total + 100, 11)
    for serial, body in enumerate(texts[: requests_total + 50]):  # the first 50: warm-up
        payload = {
            "body": body,
            "name": "Warga",
            "phone": "081234567890",
            "external_id": f"i-{serial}",
        }
        answer = client.post("/channels/web/inbound", json=payload)
        assert answer.status_code == 201, answer.status_code
    if settle:  # claim and let the models decide, without the call to the central
        forwarder = runtime.forwarder()
        while True:
            with runtime.sessions.begin() as session:
                claimed, work = forwarder.claim(session)
            if not claimed:
                break
            forwarder.prepare(work)
        forwarder.close()


def instructions(model_path: Path, requests_total: int) -> dict[str, float]:
    """Instructions per web-form request without and with the models, counted by callgrind.

    Counted instructions do not move with what else runs on a shared machine, unlike
    seconds. Each config runs twice under `valgrind --tool=callgrind` (10 and
    10 + `requests_total` posts after the same start-up); the difference over
    `requests_total` is the cost of one request, start-up and model loading excluded.
    """
    import subprocess

    def count(name: str, posts: int, settle: bool) -> int:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
             sys.executable, __file__, "--post-only", str(model_path), "--config", name,
             "--requests", str(posts), *(["--settle"] if settle else [])],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        found = re.search(r"Collected : (\d+)", run.stderr)
        assert found, run.stderr[-2000:]
        return int(found.group(1))

    figures: dict[str, float] = {}
    for settle in (False, True):
        for name in ("without models", "with models"):
            key = f"{name}{', with the models decision' if settle else ''}"
            figures[key] = (
                (count(name, 10 + requests_total, settle) - count(name, 10, settle))
                / requests_total
                / 1e6
            )
    return figures


def _wrk_field(output: str, pattern: str) -> str:
    found = re.search(pattern, output)
    assert found, output
    return found.group(1)


def _machine_counters() -> tuple[float, int]:
    """CPU seconds the whole machine has been busy, and context switches so far (/proc/stat)."""
    cpu, switches = 0.0, 0
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == "cpu":  # user nice system idle iowait irq softirq steal ...
            busy = sum(map(int, fields[1:9])) - int(fields[4]) - int(fields[5])
            cpu = busy / os.sysconf("SC_CLK_TCK")
        elif fields[0] == "ctxt":
            switches = int(fields[1])
    return cpu, switches


def _family_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the models' process) so far."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = _cpu_seconds(pid)
    for child in children:
        with contextlib.suppress(FileNotFoundError):
            total += _cpu_seconds(int(child))
    return total


# name -> (config, bench/intake.py server kind); "X with" is compared with "X without"
WRK_SERVERS = {
    "web without models": ("without models", "gateway"),
    "web with models": ("with models", "gateway"),
    "run without models": ("without models", "gateway-run"),
    "run with models": ("with models", "gateway-run"),
}


def _waiting(config: Path) -> int:
    """Reports of this gateway not yet at the central (read from its SQLite database)."""
    import sqlite3

    text = config.read_text(encoding="utf-8")
    found = re.search(r'sqlite:///([^"]+)', text)
    assert found
    with contextlib.closing(sqlite3.connect(found.group(1), timeout=30)) as db:
        return int(db.execute("SELECT count(*) FROM reports WHERE state = 'queued'").fetchone()[0])


def _settle(config: Path, limit: float = 120.0) -> float:
    """Wait until this gateway has forwarded what it took in; returns the seconds waited."""
    started = time.monotonic()
    while _waiting(config) and time.monotonic() - started < limit:
        time.sleep(0.2)
    return time.monotonic() - started


def wrk_intake(model_path: Path, seconds: int, rounds: int, threads: int) -> dict[str, Any]:
    """Web-form intake over HTTP driven by wrk (C), the configs alternating, `rounds` each.

    wrk's 2 threads and 32 connections send real-looking complaint bodies (the synthetic
    dispatch history, `bench/wrk/complaints.lua`); a Python client on the same two cores
    would measure itself. All servers start once and wait while another is measured, so
    rounds can be short and many: a machine whose speed drifts by minutes then moves both
    sides of a pair alike. Besides wrk's figures: the server's CPU (with its models'
    process), the whole machine's CPU and context switches, and wrk's own CPU per request.

    "web" serves as `sp4n-gateway web` (the models decide in the worker); "run" as
    `sp4n-gateway run`: the forward worker in the same process lets the models decide and
    forwards every report to a sandbox central (in this process) while wrk loads the
    intake. After each "run" round the next waits until that gateway has forwarded its
    backlog (the seconds it took are printed), so no forwarding spills into another's round.
    """
    import subprocess

    import intake as bench_intake  # bench/intake.py

    from forwarder.sandbox import SandboxServer, SandboxSettings

    bench_intake._quiet()  # the sandbox serves in this process
    sandbox_dir = Path(tempfile.mkdtemp(prefix="sp4n-sandbox-"))
    sandbox = SandboxServer(
        SandboxSettings(token=os.environ.setdefault("CENTRAL_TOKEN", "bench-token-not-a-secret"),
                        db_path=str(sandbox_dir / "sb.db")),
        host="127.0.0.1", port=0,
    )  # fmt: skip
    sandbox.start()

    texts, _ = _history(5000, 17)
    bodies = Path(tempfile.mkdtemp(prefix="sp4n-wrk-")) / "bodies.jsonl"
    bodies.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    script = Path(__file__).parent / "wrk" / "complaints.lua"
    # A database of its own for each server: a "run" server's forward worker must not take
    # in what another server stored.
    config_of = {
        name: _configs(model_path, sandbox.url)[config] for name, (config, _) in WRK_SERVERS.items()
    }
    servers = {
        name: bench_intake._start(kind, str(config_of[name]), threads)
        for name, (_, kind) in WRK_SERVERS.items()
    }
    forwarding = {  # the "run" servers' configs: their backlog is waited for
        name: config_of[name] for name, (_, kind) in WRK_SERVERS.items() if kind != "gateway"
    }
    out: dict[str, Any] = {name: [] for name in servers}
    try:
        for name, (_, url) in servers.items():  # model loading, caches, first queries
            warm = ["wrk", "-t2", "-c32", "-d5s", "-s", str(script), url, "--", str(bodies)]
            subprocess.run(
                [*warm, f"warm-{name.replace(' ', '-')}"], capture_output=True, check=True
            )
            if name in forwarding:
                _settle(forwarding[name])
        for round_ in range(rounds):
            for name, (proc, url) in servers.items():
                tag = f"r{round_}-{name.replace(' ', '-')}"
                assert proc.pid is not None
                cpu_before = _family_cpu(proc.pid)
                machine_before = _machine_counters()
                started = os.times()
                run = subprocess.run(
                    ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script),
                     url, "--", str(bodies), tag],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                ended = os.times()
                machine_after = _machine_counters()
                server_cpu = _family_cpu(proc.pid) - cpu_before
                wrk_cpu = (ended.children_user - started.children_user) + (
                    ended.children_system - started.children_system
                )
                total = int(_wrk_field(run.stdout, r"(\d+) requests in"))
                figures = {
                    "requests_per_s": float(_wrk_field(run.stdout, r"Requests/sec:\s+([\d.]+)")),
                    "p50": _wrk_field(run.stdout, r"(?m)^\s+50%\s+(\S+)"),
                    "p99": _wrk_field(run.stdout, r"(?m)^\s+99%\s+(\S+)"),
                    "errors": "Non-2xx" in run.stdout or "Socket errors" in run.stdout,
                    "server_cpu_ms_per_request": round(server_cpu * 1000 / total, 3),
                    "machine_cpu_ms_per_request": round(
                        (machine_after[0] - machine_before[0]) * 1000 / total, 3
                    ),
                    "switches_per_request": round(
                        (machine_after[1] - machine_before[1]) / total, 1
                    ),
                    "wrk_cpu_ms_per_request": round(wrk_cpu * 1000 / total, 3),
                }
                if name in forwarding:
                    figures["backlog_after"] = _waiting(forwarding[name])
                    figures["backlog_cleared_s"] = round(_settle(forwarding[name]), 1)
                out[name].append(figures)
                print(f"round {round_ + 1} {name}: {figures}", flush=True)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.join()
        sandbox.stop()
    return out


def wrk_summary(rounds: dict[str, Any]) -> list[str]:
    """Per config: mean rate and costs, and its change against the same round without models."""
    lines = []
    for name, runs in rounds.items():
        base_name = name.replace(" with models", " without models")
        base = [r["requests_per_s"] for r in rounds.get(base_name, runs)]
        rate = statistics.fmean(r["requests_per_s"] for r in runs)
        line = (
            f"intake {name}: mean {rate:.1f} requests/s, server CPU"
            f" {statistics.fmean(r['server_cpu_ms_per_request'] for r in runs):.3f} ms/request,"
            f" machine CPU {statistics.fmean(r['machine_cpu_ms_per_request'] for r in runs):.3f}"
            f" ms/request, {statistics.fmean(r['switches_per_request'] for r in runs):.1f}"
            " context switches/request"
        )
        if base_name != name:
            changes = [100 * (r["requests_per_s"] / b - 1) for r, b in zip(runs, base, strict=True)]
            line += (
                f"; change per round: median {statistics.median(changes):+.1f} %,"
                f" mean {statistics.fmean(changes):+.1f} %,"
                f" range {min(changes):+.1f} to {max(changes):+.1f} %"
            )
        lines.append(line)
    return lines


def intake(model_path: Path, requests_total: int, concurrency: int, threads: int) -> dict[str, Any]:
    """Closed-loop web-form intake without and with the models."""
    import intake as bench_intake  # bench/intake.py

    out: dict[str, Any] = {}
    for name, config in _configs(model_path).items():
        proc, url = bench_intake._start("gateway", str(config), threads)
        try:
            bench_intake.closed_loop(url, 200, concurrency, f"warm-{name}")
            assert proc.pid is not None
            cpu_before = _cpu_seconds(proc.pid)
            figures = bench_intake.closed_loop(
                url, requests_total, concurrency, name.replace(" ", "-")
            )
            # CPU the server process spent per request (all its threads, the writer included):
            # unlike requests/s it hardly moves with what else runs on the machine, and on a
            # CPU-bound gateway throughput is its inverse.
            figures["server_cpu_ms_per_request"] = round(
                (_cpu_seconds(proc.pid) - cpu_before) * 1000 / requests_total, 3
            )
            out[name] = figures
        finally:
            proc.terminate()
            proc.join()
    return out


def main() -> None:
    """Run the stages and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=50_000)
    parser.add_argument("--test-rows", type=int, default=2_500)
    parser.add_argument("--baseline-rows", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--wrk", type=Path, help="intake over HTTP driven by wrk, this model")
    parser.add_argument("--seconds", type=int, default=5, help="--wrk: seconds of one round")
    parser.add_argument("--rounds", type=int, default=12, help="--wrk: rounds of each config")
    parser.add_argument("--intake-only", type=Path, help="only stage 4, with this model file")
    parser.add_argument(
        "--in-process", type=Path, help="only CPU ms per request in one process, this model"
    )
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument(
        "--instructions", type=Path, help="only instructions per request (callgrind), this model"
    )
    parser.add_argument("--post-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--settle", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.post_only:
        _post_only(args.post_only, args.config, args.requests, args.settle)
        return
    if args.instructions:
        counted = instructions(args.instructions, args.requests)
        for suffix, what in (("", "the request"), (", with the models decision", "the report")):
            without = counted[f"without models{suffix}"]
            with_models = counted[f"with models{suffix}"]
            print(
                f"million instructions, {what}: without models {without:.2f},"
                f" with models {with_models:.2f}, overhead {with_models - without:.2f}"
                f" ({100 * (with_models - without) / without:.1f} %)"
            )
        return
    if args.wrk:
        print("\n".join(wrk_summary(wrk_intake(args.wrk, args.seconds, args.rounds, args.threads))))
        return
    if args.in_process:
        figures = in_process(args.in_process, args.requests, args.blocks)
        print(f"server CPU ms per request, in one process: {figures}")
        return
    if args.intake_only:
        for name, figures in intake(
            args.intake_only, args.requests, args.concurrency, args.threads
        ).items():
            print(f"intake {name}: {figures}")
        return
    out = Path(tempfile.mkdtemp(prefix="sp4n-learn-")) / "routing.npz"
    result = train(args.train_rows, out)
    print(
        f"training: {result['rows']} rows, {result['labels']} agencies:"
        f" {result['seconds']:.1f} s, peak {result['peak_mib']:.0f} MiB resident,"
        f" model file {out.stat().st_size / 2**20:.1f} MiB"
    )
    print(
        f"  cross-validated: top-1 {result['cv']['top1']:.3f}, top-3 {result['cv']['top3']:.3f},"
        f" recommended threshold {result['threshold']}"
    )
    texts, labels = _history(args.test_rows, 2)
    ours = evaluate(out, texts, labels)
    print(f"ours on {len(texts)} test rows: {ours}")
    if not args.skip_baseline:
        figures = baseline(args.baseline_rows, texts, labels)
        print(f"baseline ({args.baseline_rows} training rows): {figures}")
    for name, figures in intake(out, args.requests, args.concurrency, args.threads).items():
        print(f"intake {name}: {figures}")


if __name__ == "__main__":
    main()
