"""Turns the harness's JSON lines into bench/results.json and BENCHMARKS.md.

Usage: python3 report.py RAW.jsonl MODE "ARGS"
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def command_output(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def locked_version(crate):
    try:
        with open(os.path.join(HERE, "Cargo.lock")) as f:
            text = f.read()
    except OSError:
        return "?"
    match = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(crate), text)
    return match.group(1) if match else "?"


def fmt_time(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def main():
    raw, mode = sys.argv[1], sys.argv[2]
    args = sys.argv[3] if len(sys.argv) > 3 else ""
    results, versions = [], {}
    with open(raw) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if "versions" in record:
                versions.update(record["versions"])
            else:
                results.append(record)
    versions.update({
        "rustc": command_output(["rustc", "--version"]),
        "chainrule": locked_version("chainrule"),
        "echidna": locked_version("echidna"),
        "num-dual": locked_version("num-dual"),
        "ad_trait": locked_version("ad_trait"),
        "adolc": command_output(["dpkg-query", "-W", "-f=${Version}", "libadolc-dev"]),
        "g++": command_output(["g++", "--version"]).split("\n")[0],
    })
    machine = f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with open(os.path.join(HERE, "results.json"), "w") as f:
        json.dump({"machine": machine, "date": date, "mode": mode, "versions": versions, "results": results}, f, indent=1)
        f.write("\n")
    if mode == "tiny":
        print(f"wrote bench/results.json ({len(results)} results; tiny smoke run, BENCHMARKS.md left alone)")
        return

    # One table per workload: rows are sizes, columns systems.
    workloads = []
    for r in results:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {machine}. Date: {date}.",
        "",
        f"Reproduce: `bench/run{(' ' + args) if args else ''}` ({mode} run; every system pinned to one core, "
        "one warm-up, median of the runs shown; each system's derivative is checked against the "
        "hand-written or closed-form one before it is timed).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + ".",
        "",
        "Times are medians per call; `ns/op` divides by the function's elementary operations "
        "(8 per Rosenbrock term, 7 per tape_stress step). Ratios are the system's time over chainrule's "
        "(above 1: chainrule is faster). Compare systems within one run: a row of a tight loop can move "
        "10-50% between builds that change only unrelated code (where the loop lands in memory; "
        "forward_gradient chunk 16 read 189-297 µs for the same source), so differences of a few percent "
        "are ties.",
        "",
        "The rule for every system: it computes and returns the function's value and its derivative "
        "(both checked against the references before timing, so no system can leave its value chain to the "
        "optimiser); its Rust entry point is `#[inline(never)]`, and its inputs and outputs pass through "
        "`std::hint::black_box`. The rosenbrock_grad, jvp and forward_gradient rows follow it through one "
        "table of systems (`bench/src/systems.rs`, with a test that fails if a system drops its value); the "
        "Hessian rows (hessian_*, sparse_hessian_*) return and check the value, gradient and Hessian from every "
        "system, the Jacobian rows the values and the Jacobian, replay_gradient and rosenbrock_tensor the value "
        "and gradient, and mlp_step the step's loss with the updated parameters; JAX's jitted functions and "
        "PyTorch's steps return the same (`jax.value_and_grad`, the loss tensor), each checked before it is "
        "timed where a reference exists. "
        "`chainrule-jvp-buffers` is `JvpBuffers::jvp_into`: the same product into reused buffers. "
        "`floor-adjoint` is the faster of two hand-written adjoints (accumulating into `g[i]` and `g[i+1]`, "
        "or writing each `g[i]` once), and the note names which. "
        "mlp_train is the digits MLP's whole training (`examples/digits_mlp.rs`: 64-128-10, Adam, batch 32, "
        "80 epochs; n is the number of steps) from the same initial weights, split and batch order in every "
        "system, each reaching at least 97% test accuracy before it is timed. XLA runs its CPU code with "
        "subnormal numbers flushed to zero; chainrule keeps IEEE arithmetic, subnormals included. "
        "release_build_90_ops is the time to rebuild, in release, one binary whose generic function of 90 "
        "elementary operations runs at the nesting the column names (`bench/compile_time.py`; chainrule "
        "itself built once before), and the note is the start of what the binary prints.",
        "",
    ]
    for workload in workloads:
        rows = [r for r in results if r["workload"] == workload]
        systems = []
        for r in rows:
            if r["system"] not in systems:
                systems.append(r["system"])
        sizes = sorted({r["n"] for r in rows})
        ours = next((s for s in systems if s.startswith("chainrule-")), None)
        lines += [f"## {workload}", ""]
        header = "| n | " + " | ".join(systems) + " |"
        lines += [header, "|" + "---|" * (len(systems) + 1)]
        for n in sizes:
            cells = []
            base = next((r for r in rows if r["n"] == n and r["system"] == ours), None)
            for s in systems:
                r = next((r for r in rows if r["n"] == n and r["system"] == s), None)
                if r is None:
                    cells.append("–")
                    continue
                cell = fmt_time(r["median_s"])
                if "ns_per_op" in r:
                    cell += f" ({r['ns_per_op']:.2f} ns/op)"
                if "bytes_per_op" in r:
                    cell += f", {r['bytes_per_op']:.1f} B/op peak RSS"
                if "peak_rss_mb" in r:
                    cell += f", peak {r['peak_rss_mb']:.0f} MB"
                if base is not None and s != ours:
                    cell += f" ×{r['median_s'] / base['median_s']:.2f}"
                cells.append(cell)
            note = next((r.get("note") for r in rows if r["n"] == n and r.get("note")), None)
            label = f"{n}" + (f" ({note})" if note and "x" in note and len(note) < 12 else "")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        notes = sorted({f"{r['system']}: {r['note']}" for r in rows if r.get("note") and not re.fullmatch(r"\d+x\d+", r["note"])})
        if notes:
            lines.append("")
            lines += [f"- {n}" for n in notes]
        lines.append("")
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"wrote bench/results.json and BENCHMARKS.md ({len(results)} results)")


if __name__ == "__main__":
    main()
