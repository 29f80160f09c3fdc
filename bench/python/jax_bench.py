"""JAX side of the benchmark harness, jax.jit on one CPU core: W1
(rosenbrock_grad, vectorized), W5 (hessian) and W7 (rosenbrock_tensor) in
float64, W6 (mlp_step) in float32. Prints one JSON object per line, like
chainrule-bench. Usage: python jax_bench.py [--quick|--tiny]"""
import json
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from common import TINY, check, emit, measure, point, rosenbrock_adjoint, sizes  # noqa: E402


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def dense_hessian_fn(x):
    c = 1.0 + (jnp.arange(x.shape[0]) % 3) * 0.1
    return jnp.log(jnp.sum(jnp.exp(x * c))) + 0.5 * jnp.sum(x) ** 2


def main():
    grad = jax.jit(jax.grad(rosenbrock))
    for n in sizes():
        x = jnp.asarray(point(n))
        check(f"jax-jit rosenbrock_grad n={n}", grad(x), rosenbrock_adjoint(point(n)))
        emit("rosenbrock_grad", n, "jax-jit", measure(lambda: grad(x).block_until_ready()), 8 * (n - 1),
             "vectorized: whole-array operations")
    n = 10 if TINY else 100
    x = jnp.asarray(point(n))
    for workload, f in [("hessian_rosenbrock", rosenbrock), ("hessian_dense", dense_hessian_fn)]:
        hess = jax.jit(jax.hessian(f))
        h = np.asarray(hess(x))
        if workload == "hessian_rosenbrock":
            p = point(n)
            want = np.zeros((n, n))
            for i in range(n - 1):
                want[i, i] += 1200 * p[i] ** 2 - 400 * p[i + 1] + 2
                want[i, i + 1] -= 400 * p[i]
                want[i + 1, i] -= 400 * p[i]
                want[i + 1, i + 1] += 200
            check("jax-jit hessian_rosenbrock", h, want)
        emit(workload, n, "jax-jit", measure(lambda: hess(x).block_until_ready()))
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
        grads = jax.grad(loss)(params, x, y)
        return [p - 0.01 * g for p, g in zip(params, grads)]

    emit("mlp_step", batch, "jax-jit", measure(lambda: jax.block_until_ready(step(params, x6, y6))))

    # W7: the vectorized Rosenbrock gradient at n = 10^6 (the same program as W1's largest size).
    n = 1000 if TINY else 1000000
    x7 = jnp.asarray(point(n))
    check("jax-jit rosenbrock_tensor", grad(x7), rosenbrock_adjoint(point(n)))
    emit("rosenbrock_tensor", n, "jax-jit", measure(lambda: grad(x7).block_until_ready()), 8 * (n - 1))
    print(json.dumps({"versions": {"jax": jax.__version__, "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else ""}}))


if __name__ == "__main__":
    main()
