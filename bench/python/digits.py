"""W10 on the JAX side: the digits MLP's whole training, as
bench/src/digits.rs runs it for chainrule. Same data (data/digits.csv.gz),
same 80/20 split and the same batch order every epoch (both drawn from the
same SplitMix64 streams), the same 64-128-10 ReLU network in float32 from
the same initial weights (Mlp::new's draws, repeated here), Adam with bias correction at learning rate 5e-4, batches
of 32, 80 epochs. Each epoch is one jitted lax.scan over its full batches
plus one jitted step for the last, shorter batch: JAX at its best, with no
Python dispatch per step."""
import gzip
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

EPOCHS, HIDDEN, BATCH, LEARNING_RATE = 80, 128, 32, 5e-4
SPLIT_SEED, SEED = 12345, 0
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8
MASK = (1 << 64) - 1


class SplitMix64:
    """chainrule::tensor::nn::SplitMix64, bit for bit."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        """Uniform in [0, 1) from 53 random bits."""
        return (self.next_u64() >> 11) / float(1 << 53)

    def shuffle(self, items):
        """Fisher-Yates, as SplitMix64::shuffle."""
        for i in range(len(items) - 1, 0, -1):
            j = self.next_u64() % (i + 1)
            items[i], items[j] = items[j], items[i]


def load():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "digits.csv.gz")
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    return (table[:, :64] / 16.0).astype(np.float32), table[:, 64].astype(np.int32)


def orders(count):
    """The split, and the training order of every epoch."""
    order = list(range(count))
    SplitMix64(SPLIT_SEED).shuffle(order)
    cut = count * 4 // 5
    train, test = order[:cut], order[cut:]
    rng = SplitMix64(SEED + 1)
    epochs = []
    for _ in range(EPOCHS):
        rng.shuffle(train)
        epochs.append(np.asarray(train, dtype=np.int32))
    return np.stack(epochs), np.asarray(test, dtype=np.int32)


def init():
    """Mlp::new(&[64, HIDDEN, 10], Relu, SEED)'s weights: per layer, the
    weights then the bias, each (2u - 1)/sqrt(fan_in) from one SplitMix64."""
    rng = SplitMix64(SEED)
    params = []
    for fan_in, fan_out in [(64, HIDDEN), (HIDDEN, 10)]:
        bound = 1.0 / np.sqrt(float(fan_in))
        for shape in [(fan_in, fan_out), (fan_out,)]:
            values = [(2.0 * rng.uniform() - 1.0) * bound for _ in range(int(np.prod(shape)))]
            params.append(jnp.asarray(np.asarray(values, dtype=np.float64).astype(np.float32).reshape(shape)))
    return params


def logits_of(params, x):
    w1, b1, w2, b2 = params
    return jnp.maximum(x @ w1 + b1, 0.0) @ w2 + b2


def loss(params, x, y):
    logp = jax.nn.log_softmax(logits_of(params, x))
    return -jnp.mean(logp[jnp.arange(y.shape[0]), y])


def adam_step(state, x, y):
    params, first, second, t = state
    value, grads = jax.value_and_grad(loss)(params, x, y)
    t = t + 1
    first = [BETA1 * m + (1.0 - BETA1) * g for m, g in zip(first, grads)]
    second = [BETA2 * v + (1.0 - BETA2) * g * g for v, g in zip(second, grads)]
    correct1, correct2 = 1.0 - BETA1 ** t, 1.0 - BETA2 ** t
    params = [p - LEARNING_RATE * (m / correct1) / (jnp.sqrt(v / correct2) + EPSILON)
              for p, m, v in zip(params, first, second)]
    return (params, first, second, t), value


def run():
    """Trains once and returns (steps, seconds, test accuracy); the first
    call also compiles, so time the later ones."""
    images, labels = load()
    epoch_orders, test = orders(len(labels))
    x_all, y_all = jnp.asarray(images), jnp.asarray(labels)
    train_size = epoch_orders.shape[1]
    full = train_size // BATCH

    @jax.jit
    def epoch(state, order):
        batches = order[:full * BATCH].reshape(full, BATCH)
        state, losses = jax.lax.scan(lambda s, idx: adam_step(s, x_all[idx], y_all[idx]), state, batches)
        if train_size % BATCH:
            tail = order[full * BATCH:]
            state, last = adam_step(state, x_all[tail], y_all[tail])
            losses = jnp.append(losses, last)
        return state, losses[-1]

    @jax.jit
    def accuracy(params):
        predicted = jnp.argmax(logits_of(params, x_all[test]), axis=1)
        return jnp.mean(predicted == y_all[test])

    initial = init()

    def train():
        params = list(initial)
        state = (params, [jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params], jnp.float32(0.0))
        orders_on_device = jnp.asarray(epoch_orders)
        for k in range(EPOCHS):
            state, last_loss = epoch(state, orders_on_device[k])
        return float(accuracy(state[0]))

    steps = EPOCHS * (full + (1 if train_size % BATCH else 0))
    return steps, train
