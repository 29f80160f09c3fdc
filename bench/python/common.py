"""Timing shared by the Python peers: one warm-up (which also compiles, for
JAX), then the median of RUNS runs, each repeating the call until it lasts
MIN_RUN seconds."""
import sys
import time

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
