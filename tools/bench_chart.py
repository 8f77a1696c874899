#!/usr/bin/env python3
"""Turns the benchmarks' CSV reports into an SVG bar chart and a Markdown table (Python 3, standard library only).

Usage: python3 tools/bench_chart.py [RESULTS_DIR] [--svg OUT.svg] [--markdown OUT.md]

RESULTS_DIR holds BenchmarkDotNet's *-report.csv files (default BenchmarkDotNet.Artifacts/results, where
`dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --full` writes them) and the latency scenario's
AsyncQueue.Benchmarks.Latency-report.csv. Throughput bars use a log scale: the peers are up to four orders of
magnitude slower than the in-process queues. Every ratio is a throughput ratio to Channel<T> unbounded with the
same parameter (>1 is faster than Channel<T>).
"""
import csv
import glob
import html
import math
import os
import re
import sys

SCENARIOS = [  # (BenchmarkDotNet class, title, parameter column)
    ("EnqueueBenchmarks", "1. Enqueue only", "Producers"),
    ("BacklogBenchmarks", "2. End-to-end, backlog burned down", "Workers"),
    ("SteadyBenchmarks", "2/3. End-to-end, steady producer", "Workers"),
]
LABELS = {
    "AsyncQueue_Engine": "AsyncQueue (singleton handler)",
    "AsyncQueue_Pipeline": "AsyncQueue full pipeline (scope/job)",
    "Channel_Unbounded": "Channel<T> unbounded",
    "Channel_Bounded1024": "Channel<T> bounded 1024",
    "ConcurrentQueue_Semaphore": "ConcurrentQueue + SemaphoreSlim",
    "Peer_Coravel": "Coravel 6.0.2 (1 s delay)",
    "Peer_Hangfire": "Hangfire 1.8.25 + InMemory 1.0.0",
    "Peer_MassTransit": "MassTransit 8.5.12 in-memory",
    "Peer_Wolverine": "Wolverine 6.62.0 local queue",
}
COLORS = {
    "AsyncQueue_Engine": "#1f6feb", "AsyncQueue_Pipeline": "#58a6ff", "Channel_Unbounded": "#2da44e",
    "Channel_Bounded1024": "#7ee2a8", "ConcurrentQueue_Semaphore": "#a2d9a2", "Peer_Coravel": "#bf8700",
    "Peer_Hangfire": "#cf222e", "Peer_MassTransit": "#8250df", "Peer_Wolverine": "#e16f24",
}
BASELINE = "Channel_Unbounded"
JOB_BYTES = 32  # the benchmarks' Job object, allocated per enqueue by every contender


def number(text):
    """Parses a BenchmarkDotNet cell ('1,234.5', '-', 'NA', '12.3 ns') into a float or None."""
    text = (text or "").strip().replace(",", "")
    match = re.match(r"^-?[0-9.]+(e[-+]?[0-9]+)?", text, re.IGNORECASE)
    return float(match.group(0)) if match else None


def column(row, name):
    for key, value in row.items():
        if key == name or key.startswith(name + " ["):
            return value
    return None


def load(results):
    rows = []
    for cls, title, param in SCENARIOS:
        files = glob.glob(os.path.join(results, f"*{cls}-report.csv"))  # BenchmarkDotNet prefixes the namespace
        if not files:
            continue
        with open(files[0], newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        means = {}
        for r in table:
            means[(r["Method"], r.get(param))] = number(column(r, "Mean"))
        for r in table:
            mean = means[(r["Method"], r.get(param))]
            base = means.get((BASELINE, r.get(param)))
            if mean is None:
                rows.append(dict(cls=cls, title=title, param=param, value=r.get(param), method=r["Method"], failed=True))
                continue
            allocated = number(column(r, "Allocated"))
            rows.append(dict(
                cls=cls, title=title, param=param, value=r.get(param), method=r["Method"], failed=False,
                ops=1e9 / mean, ratio=(base / mean) if base else None, allocated=allocated,
                stddev=number(column(r, "StdDev")), mean=mean))
    return rows


def load_latency(results):
    paths = glob.glob(os.path.join(results, "*Latency-report.csv"))
    if not paths:
        return []
    with open(paths[0], newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def fmt_rate(ops):
    if ops >= 1e6:
        return f"{ops / 1e6:.2f} M/s"
    if ops >= 1e3:
        return f"{ops / 1e3:.1f} k/s"
    return f"{ops:.0f} /s"


def fmt_ratio(ratio):
    if ratio is None:
        return ""
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"1/{1 / ratio:,.0f}x"


def svg(rows, latency, out):
    width, label_w, bar_w, row_h = 980, 300, 480, 18
    parts, y = [], 40
    lo, hi = 1e2, 1e9  # log-scale axis for throughput (jobs/s)

    def x_of(ops):
        ops = min(max(ops, lo), hi)
        return label_w + bar_w * (math.log10(ops) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    parts.append(f'<text x="10" y="24" font-size="16" font-weight="bold">AsyncQueue vs Channel&lt;T&gt; and the peers: jobs per second (log scale), ratio to Channel&lt;T&gt; unbounded</text>')
    for cls, title, param in SCENARIOS:
        groups = {}
        for r in rows:
            if r["cls"] == cls:
                groups.setdefault(r["value"], []).append(r)
        for value in sorted(groups, key=lambda v: float(v)):
            y += 12
            parts.append(f'<text x="10" y="{y + 12}" font-size="13" font-weight="bold">{html.escape(title)}, {param.lower()} = {value}</text>')
            y += 18
            for tick in range(2, 10):
                tx = x_of(10 ** tick)
                parts.append(f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + row_h * len(groups[value])}" stroke="#ddd"/>')
                parts.append(f'<text x="{tx:.1f}" y="{y + row_h * len(groups[value]) + 10}" font-size="8" text-anchor="middle" fill="#888">1e{tick}</text>')
            for r in groups[value]:
                label = LABELS.get(r["method"], r["method"])
                parts.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end">{html.escape(label)}</text>')
                if r["failed"]:
                    parts.append(f'<text x="{label_w + 4}" y="{y + 13}" font-size="11" fill="#cf222e">failed (see the log)</text>')
                else:
                    x1 = x_of(r["ops"])
                    parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{x1 - label_w:.1f}" height="{row_h - 5}" fill="{COLORS.get(r["method"], "#888")}"/>')
                    parts.append(f'<text x="{x1 + 4:.1f}" y="{y + 13}" font-size="10">{fmt_rate(r["ops"])}  {html.escape(fmt_ratio(r["ratio"]))}</text>')
                y += row_h
            y += 12
    if latency:
        y += 16
        parts.append(f'<text x="10" y="{y}" font-size="14" font-weight="bold">6. Hand-off latency (enqueue until the handler starts), microseconds, log scale: p50 / p99 / p99.9</text>')
        y += 8
        llo, lhi = 1.0, 1e7

        def lx(us):
            us = min(max(us, llo), lhi)
            return label_w + bar_w * (math.log10(us) - math.log10(llo)) / (math.log10(lhi) - math.log10(llo))

        for workers in sorted({r["Workers"] for r in latency}, key=int):
            group = [r for r in latency if r["Workers"] == workers]
            y += 12
            parts.append(f'<text x="10" y="{y + 12}" font-size="13" font-weight="bold">{workers} worker(s)</text>')
            y += 18
            for r in group:
                parts.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end">{html.escape(r["Contender"])} @ {fmt_rate(float(r["RatePerSecond"]))}</text>')
                for key, shade in (("P999Us", "#f2cc60"), ("P99Us", "#e3a008"), ("P50Us", "#9a6700")):
                    parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{lx(float(r[key])) - label_w:.1f}" height="{row_h - 5}" fill="{shade}"/>')
                parts.append(f'<text x="{lx(float(r["P999Us"])) + 4:.1f}" y="{y + 13}" font-size="10">{float(r["P50Us"]):,.1f} / {float(r["P99Us"]):,.1f} / {float(r["P999Us"]):,.1f} us</text>')
                y += row_h
    height = y + 20
    doc = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="Helvetica, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>' + "".join(parts) + "</svg>\n")
    with open(out, "w", encoding="utf-8") as f:
        f.write(doc)


def markdown(rows, latency):
    lines = ["| scenario | param | contender | jobs/s | x Channel<T> | allocated B/job | beyond the 32 B job |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        label = LABELS.get(r["method"], r["method"])
        if r["failed"]:
            lines.append(f'| {r["title"]} | {r["param"].lower()} {r["value"]} | {label} | failed | | | |')
            continue
        alloc = r["allocated"]
        # The backlog's jobs are made before the measured burn-down, so only its own allocations show there.
        beyond = "" if alloc is None else ("(no job made)" if r["cls"] == "BacklogBenchmarks" else f"{alloc - JOB_BYTES:,.0f}")
        lines.append(f'| {r["title"]} | {r["param"].lower()} {r["value"]} | {label} | {r["ops"]:,.0f} | {fmt_ratio(r["ratio"])} | '
                     f'{"" if alloc is None else f"{alloc:,.0f}"} | {beyond} |')
    peers = [r for r in rows if r["cls"] == "SteadyBenchmarks" and not r["failed"] and r["method"].startswith("Peer_")]
    if peers:
        lines += ["", "| steady producer | workers | AsyncQueue (singleton) / peer | AsyncQueue full pipeline / peer |", "|---|---|---:|---:|"]
        by_key = {(r["method"], r["value"]): r for r in rows if r["cls"] == "SteadyBenchmarks" and not r["failed"]}
        for r in peers:
            engine = by_key.get(("AsyncQueue_Engine", r["value"]))
            pipeline = by_key.get(("AsyncQueue_Pipeline", r["value"]))
            times_engine = "" if engine is None else "{:,.1f}x".format(engine["ops"] / r["ops"])
            times_pipeline = "" if pipeline is None else "{:,.1f}x".format(pipeline["ops"] / r["ops"])
            lines.append(f'| {LABELS.get(r["method"], r["method"])} | {r["value"]} | {times_engine} | {times_pipeline} |')
    if latency:
        lines += ["", "| latency | workers | offered load (jobs/s) | % of its own peak | p50 us | p99 us | p99.9 us | max us |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in latency:
            share = float(r["RatePerSecond"]) / float(r["OwnPeakPerSecond"]) if float(r["OwnPeakPerSecond"]) else 0
            lines.append(f'| {r["Contender"]} | {r["Workers"]} | {float(r["RatePerSecond"]):,.0f} | {share:.0%} | {float(r["P50Us"]):,.1f} | '
                         f'{float(r["P99Us"]):,.1f} | {float(r["P999Us"]):,.1f} | {float(r["MaxUs"]):,.1f} |')
    return "\n".join(lines) + "\n"


def main(argv):
    args = [a for a in argv[1:]]
    out_svg = out_md = None
    if "--svg" in args:
        i = args.index("--svg"); out_svg = args[i + 1]; del args[i:i + 2]
    if "--markdown" in args:
        i = args.index("--markdown"); out_md = args[i + 1]; del args[i:i + 2]
    results = args[0] if args else os.path.join("BenchmarkDotNet.Artifacts", "results")
    rows, latency = load(results), load_latency(results)
    if not rows and not latency:
        sys.exit(f"no *-report.csv under {results}: run the benchmarks first (see docs/benchmarks.md)")
    out_svg = out_svg or os.path.join("benchmarks", "results", "benchmarks.svg")
    os.makedirs(os.path.dirname(out_svg) or ".", exist_ok=True)
    svg(rows, latency, out_svg)
    table = markdown(rows, latency)
    if out_md:
        with open(out_md, "w", encoding="utf-8") as f:
            f.write(table)
    print(table, end="")
    print(f"chart: {out_svg}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
