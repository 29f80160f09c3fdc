"""PyTorch side of the harness (only with `bench/run --with-torch`): W1
(rosenbrock_grad) and W7 (rosenbrock_tensor) in float64 and W6 (mlp_step) in
float32, eager mode, one thread. With --w7, only W7 (one process each, for
its peak RSS)."""
import json

import torch

import sys

from common import TINY, check, emit, measure, point, rosenbrock_adjoint, rosenbrock_value, rss_mb, sizes

torch.set_num_threads(1)


def rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_gradient(n):
    """A function returning the eager-mode value and gradient at the
    benchmark point, both checked against the references before it is
    handed out."""
    p = point(n)
    x = torch.tensor(p, dtype=torch.float64, requires_grad=True)

    def value_and_grad():
        x.grad = None
        value = rosenbrock(x)
        value.backward()
        return value.detach(), x.grad

    value, gradient = value_and_grad()
    check(f"torch-eager rosenbrock n={n} value", [float(value)], [rosenbrock_value(p)])
    check(f"torch-eager rosenbrock n={n}", gradient.numpy(), rosenbrock_adjoint(p))
    return value_and_grad


def main():
    for n in sizes():
        emit("rosenbrock_grad", n, "torch-eager", measure(rosenbrock_gradient(n)), 8 * (n - 1),
             "vectorized: whole-array operations")
    # W6: one SGD step of an MLP 784-128-10, batch 64, float32, eager, one thread.
    batch, inputs, hidden, classes = (8, 32, 16, 10) if TINY else (64, 784, 128, 10)
    gen = torch.Generator().manual_seed(7)
    x6 = torch.rand(batch, inputs, generator=gen)
    y6 = torch.randint(0, classes, (batch,), generator=gen)
    model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, classes))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x6), y6)
        loss.backward()
        opt.step()
        return loss.detach()

    emit("mlp_step", batch, "torch-eager", measure(step))
    print(json.dumps({"versions": {"torch": torch.__version__}}))


def w7():
    """W7, the Rosenbrock gradient with tensor operations, n = 10^6, float64,
    alone in this process, for its peak RSS."""
    start, _ = rss_mb()
    n = 1000 if TINY else 1000000
    median = measure(rosenbrock_gradient(n))
    _, peak = rss_mb()
    emit("rosenbrock_tensor", n, "torch-eager", median, 8 * (n - 1), f"peak RSS at start: {start:.0f} MB", peak)


if __name__ == "__main__":
    w7() if "--w7" in sys.argv else main()
