"""PyTorch side of the harness (only with `bench/run --with-torch`): W1
(rosenbrock_grad) in eager mode, one thread, float64."""
import json
import sys

import numpy as np
import torch

torch.set_num_threads(1)
from timing import RUNS, TINY, measure, sizes  # noqa: E402


def rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)




def main():
    for n in sizes():
        p = 0.5 + 0.3 * np.sin(np.arange(n) * 0.37)
        x = torch.tensor(p, dtype=torch.float64, requires_grad=True)

        def grad():
            x.grad = None
            rosenbrock(x).backward()
            return x.grad

        g = grad().numpy()
        want = np.zeros(n)
        a = p[1:] - p[:-1] ** 2
        want[:-1] += -400 * a * p[:-1] - 2 * (1 - p[:-1])
        want[1:] += 200 * a
        if np.max(np.abs(g - want) / np.maximum(1, np.abs(want))) > 1e-10:
            sys.exit(f"torch-eager n={n}: gradient differs from the reference: not timed")
        median = measure(grad)
        print(json.dumps({"workload": "rosenbrock_grad", "n": n, "system": "torch-eager", "median_s": median,
                          "runs": RUNS, "ns_per_op": round(median * 1e9 / (8 * (n - 1)), 3),
                          "note": "vectorized: whole-array operations"}), flush=True)
    # W6: one SGD step of an MLP 784-128-10, batch 64, float32, eager, one thread.
    batch, inputs, hidden, classes = (8, 32, 16, 10) if TINY else (64, 784, 128, 10)
    gen = torch.Generator().manual_seed(7)
    x6 = torch.rand(batch, inputs, generator=gen)
    y6 = torch.randint(0, classes, (batch,), generator=gen)
    model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, classes))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x6), y6).backward()
        opt.step()

    median = measure(step)
    print(json.dumps({"workload": "mlp_step", "n": batch, "system": "torch-eager", "median_s": median, "runs": RUNS}), flush=True)

    # W7: the Rosenbrock gradient with tensor operations, n = 10^6, float64.
    n = 1000 if TINY else 1000000
    p = 0.5 + 0.3 * np.sin(np.arange(n) * 0.37)
    x = torch.tensor(p, dtype=torch.float64, requires_grad=True)

    def grad7():
        x.grad = None
        rosenbrock(x).backward()
        return x.grad

    median = measure(grad7)
    print(json.dumps({"workload": "rosenbrock_tensor", "n": n, "system": "torch-eager", "median_s": median,
                      "runs": RUNS, "ns_per_op": round(median * 1e9 / (8 * (n - 1)), 3)}), flush=True)
    print(json.dumps({"versions": {"torch": torch.__version__}}))


if __name__ == "__main__":
    main()
