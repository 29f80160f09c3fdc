"""JAX side of the benchmark harness, jax.jit on one CPU core: W1
(rosenbrock_grad, vectorized), W5 (hessian) and W7 (rosenbrock_tensor) in
float64, W6 (mlp_step) and W10 (mlp_train, see digits.py) in float32. Each jitted function returns the value
with the derivatives, as every system does. Prints one JSON object per line,
like chainrule-bench. Usage: python jax_bench.py [--quick|--tiny]"""
import json
import os
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

import digits  # noqa: E402
from common import (  # noqa: E402
    RUNS,
    TINY,
    check,
    dense_hessian_closed_form,
    emit,
    measure,
    point,
    rosenbrock_adjoint,
    rosenbrock_hessian,
    rosenbrock_value,
    rss_mb,
    sizes,
)


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def dense_hessian_fn(x):
    c = 1.0 + (jnp.arange(x.shape[0]) % 3) * 0.1
    return jnp.log(jnp.sum(jnp.exp(x * c))) + 0.5 * jnp.sum(x) ** 2


def check_value_and_gradient(name, result, p):
    value, gradient = result
    check(f"{name} value", np.asarray([value]), np.asarray([rosenbrock_value(p)]))
    check(f"{name} gradient", gradient, rosenbrock_adjoint(p))


def w7():
    """W7, the vectorized Rosenbrock gradient at n = 10^6 (the same program as
    W1's largest size), alone in this process, for its peak RSS."""
    start, _ = rss_mb()
    value_and_grad = jax.jit(jax.value_and_grad(rosenbrock))
    n = 1000 if TINY else 1000000
    x7 = jnp.asarray(point(n))
    check_value_and_gradient("jax-jit rosenbrock_tensor", value_and_grad(x7), point(n))
    median = measure(lambda: jax.block_until_ready(value_and_grad(x7)))
    _, peak = rss_mb()
    emit("rosenbrock_tensor", n, "jax-jit", median, 8 * (n - 1), f"peak RSS at start: {start:.0f} MB", peak)


def main():
    # Every system returns the value with the derivative (see BENCHMARKS.md).
    value_and_grad = jax.jit(jax.value_and_grad(rosenbrock))
    for n in sizes():
        x = jnp.asarray(point(n))
        check_value_and_gradient(f"jax-jit rosenbrock_grad n={n}", value_and_grad(x), point(n))
        emit("rosenbrock_grad", n, "jax-jit", measure(lambda: jax.block_until_ready(value_and_grad(x))),
             8 * (n - 1), "vectorized: whole-array operations")
    n = 10 if TINY else 100
    p = point(n)
    x = jnp.asarray(p)
    references = {
        "hessian_rosenbrock": (rosenbrock_value(p), rosenbrock_adjoint(p), rosenbrock_hessian(p)),
        "hessian_dense": dense_hessian_closed_form(p),
    }
    for workload, f in [("hessian_rosenbrock", rosenbrock), ("hessian_dense", dense_hessian_fn)]:
        second_order = jax.jit(lambda x, f=f: (f(x), jax.grad(f)(x), jax.hessian(f)(x)))
        value, gradient, h = second_order(x)
        want_value, want_gradient, want_h = references[workload]
        check(f"jax-jit {workload} value", np.asarray([value]), np.asarray([want_value]))
        check(f"jax-jit {workload} gradient", gradient, want_gradient)
        check(f"jax-jit {workload} hessian", h, want_h)
        emit(workload, n, "jax-jit", measure(lambda: jax.block_until_ready(second_order(x))))
    # W6: one SGD step of an MLP 784-128-10, batch 64, float32, jit.
    batch, inputs, hidden, classes = (8, 32, 16, 10) if TINY else (64, 784, 128, 10)
    rng = np.random.default_rng(7)
    x6 = jnp.asarray(rng.random((batch, inputs)), dtype=jnp.float32)
    y6 = jnp.asarray(rng.integers(0, classes, batch))
    params = [jnp.asarray(rng.uniform(-0.05, 0.05, shape), dtype=jnp.float32)
              for shape in [(inputs, hidden), (hidden,), (hidden, classes), (classes,)]]

    def loss(params, x, y):
        w1, b1, w2, b2 = params
        logits = jnp.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(logp[jnp.arange(y.shape[0]), y])

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return value, [p - 0.01 * g for p, g in zip(params, grads)]

    emit("mlp_step", batch, "jax-jit", measure(lambda: jax.block_until_ready(step(params, x6, y6))))

    # W10: the digits MLP's whole training (80 epochs), float32.
    steps, train = digits.run()
    accuracy = train()  # compiles
    if accuracy < 0.97:
        raise SystemExit(f"jax-jit: digits test accuracy {accuracy:.4f} is under 97%: not timed")
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        accuracy = train()
        samples.append(time.perf_counter() - start)
    median = sorted(samples)[len(samples) // 2]
    emit("mlp_train", steps, "jax-jit", median,
         note=f"{steps / median:.0f} steps/s, test accuracy {100 * accuracy:.2f}%")
    print(json.dumps({"versions": {"jax": jax.__version__, "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else ""}}))


if __name__ == "__main__":
    w7() if "--w7" in sys.argv else main()
