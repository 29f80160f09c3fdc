"""What the Python peers share: timing (one warm-up, which also compiles for
JAX, then the median of RUNS runs, each repeating the call until it lasts
MIN_RUN seconds), the sizes of each run, the benchmark point, the
hand-written Rosenbrock gradient every system is checked against, and the
output line."""
import json
import sys
import time

import numpy as np

TINY = "--tiny" in sys.argv
QUICK = "--quick" in sys.argv
RUNS, MIN_RUN = (1, 0.001) if TINY else (5, 0.02) if QUICK else (7, 0.1)


def measure(call):
    call()  # warm-up
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 2e-8)
    reps = max(1, int(MIN_RUN / once + 0.999))
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(reps):
            call()
        samples.append((time.perf_counter() - start) / reps)
    samples.sort()
    return samples[len(samples) // 2]


def sizes():
    """The Rosenbrock sizes of W1 for this run."""
    return [100] if TINY else [100, 1000, 10000, 100000] if QUICK else [100, 1000, 10000, 100000, 1000000]


def point(n):
    """The point every system is differentiated at (as in the Rust harness)."""
    return 0.5 + 0.3 * np.sin(np.arange(n) * 0.37)


def rosenbrock_value(x):
    """The generalized Rosenbrock function, in numpy."""
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosenbrock_hessian(x):
    """Its Hessian in closed form (tridiagonal)."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i, i + 1] -= 400 * x[i]
        h[i + 1, i] -= 400 * x[i]
        h[i + 1, i + 1] += 200
    return h


def dense_hessian_closed_form(x):
    """Value, gradient and Hessian of log(sum(exp(c x))) + (sum x)^2 / 2 with
    c_j = 1 + (j mod 3)/10: p = c e^(c x) / sum(e^(c x)), gradient p + S,
    Hessian diag(c p) - p p^T + 1."""
    c = 1.0 + (np.arange(len(x)) % 3) * 0.1
    e = np.exp(x * c)
    p = c * e / np.sum(e)
    s = np.sum(x)
    value = float(np.log(np.sum(e)) + 0.5 * s * s)
    return value, p + s, np.diag(c * p) - np.outer(p, p) + 1.0


def rosenbrock_adjoint(x):
    """The hand-written gradient of the generalized Rosenbrock function."""
    g = np.zeros_like(x)
    a = x[1:] - x[:-1] ** 2
    b = 1.0 - x[:-1]
    g[:-1] += -400.0 * a * x[:-1] - 2.0 * b
    g[1:] += 200.0 * a
    return g


def check(name, got, want):
    """Exits (nothing is timed) unless `got` matches `want` to 1e-10."""
    error = float(np.max(np.abs(np.asarray(got) - want) / np.maximum(1.0, np.abs(want))))
    if error > 1e-10:
        sys.exit(f"{name}: differs from the reference by {error:e}: not timed")


def rss_mb():
    """(current, peak) resident set of this process in MiB, from /proc."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            fields[name] = rest.split()
    return int(fields["VmRSS"][0]) / 1024, int(fields["VmHWM"][0]) / 1024


def emit(workload, n, system, median, ops=None, note=None, peak_rss_mb=None):
    """Prints one result line."""
    record = {"workload": workload, "n": n, "system": system, "median_s": median, "runs": RUNS}
    if ops:
        record["ns_per_op"] = round(median * 1e9 / ops, 3)
    if note:
        record["note"] = note
    if peak_rss_mb is not None:
        record["peak_rss_mb"] = round(peak_rss_mb, 1)
    print(json.dumps(record), flush=True)
