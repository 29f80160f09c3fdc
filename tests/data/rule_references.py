#!/usr/bin/env python3
"""Writes rule_references.txt: each rule's partial derivatives at points
across its whole range, computed with mpmath at 60 significant digits from
closed forms and rounded once to f64. tests/rule_accuracy.rs reads it.

Run: python3 tests/data/rule_references.py > tests/data/rule_references.txt
"""
import mpmath as mp

mp.mp.dps = 60

MAGNITUDES = [1e-300, 1e-200, 1e-170, 1e-100, 1e-20, 1e-8, 1e-3, 0.1, 0.5, 0.75, 0.9, 0.99999999,
              1.0, 1.00000001, 1.5, 2.0, 3.0, 10.0, 19.0, 20.0, 30.0, 100.0, 700.0, 1e8, 1e20, 1e100,
              1e170, 1e300]
POINTS = sorted(set(MAGNITUDES + [-m for m in MAGNITUDES]))


def sec2(x):
    return 1 / mp.cos(x) ** 2


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


UNARY = {
    "Recip": (lambda x: x != 0, lambda x: -1 / x**2),
    "Sqrt": (lambda x: x > 0, lambda x: 1 / (2 * mp.sqrt(x))),
    "Cbrt": (lambda x: x != 0, lambda x: 1 / (3 * mp.cbrt(abs(x)) ** 2)),
    "Exp": (lambda x: True, mp.exp),
    "Exp2": (lambda x: True, lambda x: mp.power(2, x) * mp.log(2)),
    "ExpM1": (lambda x: True, mp.exp),
    "Ln": (lambda x: x > 0, lambda x: 1 / x),
    "Log2": (lambda x: x > 0, lambda x: 1 / (x * mp.log(2))),
    "Log10": (lambda x: x > 0, lambda x: 1 / (x * mp.log(10))),
    "Ln1p": (lambda x: x > -1, lambda x: 1 / (1 + x)),
    # Trigonometric functions only where f64 argument reduction is the
    # reference's business, not ours: |x| up to 1e8.
    "Sin": (lambda x: abs(x) <= 1e8, mp.cos),
    "Cos": (lambda x: abs(x) <= 1e8, lambda x: -mp.sin(x)),
    "Tan": (lambda x: abs(x) <= 1e8, sec2),
    "Asin": (lambda x: abs(x) < 1, lambda x: 1 / mp.sqrt((1 - x) * (1 + x))),
    "Acos": (lambda x: abs(x) < 1, lambda x: -1 / mp.sqrt((1 - x) * (1 + x))),
    "Atan": (lambda x: True, lambda x: 1 / (1 + x**2)),
    "Sinh": (lambda x: True, mp.cosh),
    "Cosh": (lambda x: True, mp.sinh),
    "Tanh": (lambda x: True, lambda x: 1 / mp.cosh(x) ** 2),
    "Asinh": (lambda x: True, lambda x: 1 / mp.sqrt(x**2 + 1)),
    "Acosh": (lambda x: x > 1, lambda x: 1 / mp.sqrt((x - 1) * (x + 1))),
    "Atanh": (lambda x: abs(x) < 1, lambda x: 1 / ((1 - x) * (1 + x))),
    "Sigmoid": (lambda x: True, lambda x: sigmoid(x) * sigmoid(-x)),
    "Softplus": (lambda x: True, sigmoid),
}

PAIRS = [(a, b) for a in [-1e170, -3.0, -1e-160, 1e-170, 3e-160, 0.1, 0.5, 1.0, 2.0, 7.5, 1e8, 1e170, 1e300]
         for b in [-4e-160, -2.5, 1e-170, 0.1, 0.3, 1.5, 3.0, 1e170]]


def rem_quotient(a, b):
    q = a / b
    return mp.floor(q) if q >= 0 else mp.ceil(q)


BINARY = {
    "Div": (lambda a, b: True, lambda a, b: (1 / b, -a / b**2)),
    "Rem": (lambda a, b: abs(a / b) < 2**52, lambda a, b: (mp.mpf(1), -rem_quotient(a, b))),
    "Powf": (lambda a, b: a > 0, lambda a, b: (b * mp.power(a, b - 1), mp.power(a, b) * mp.log(a))),
    "Log": (lambda a, b: a > 0 and b > 0 and b != 1,
            lambda a, b: (1 / (a * mp.log(b)), -mp.log(a) / (b * mp.log(b) ** 2))),
    "Atan2": (lambda a, b: True, lambda a, b: (b / (a**2 + b**2), -a / (a**2 + b**2))),
    "Hypot": (lambda a, b: True, lambda a, b: (a / mp.hypot(a, b), b / mp.hypot(a, b))),
}


def f64(v):
    return repr(float(v))


def main():
    print("# op args... partials...: references at 60 digits, rounded once to f64")
    for name, (domain, slope) in UNARY.items():
        for x in POINTS:
            if domain(mp.mpf(x)):
                print(name, repr(x), f64(slope(mp.mpf(x))))
    for n in [-3, 2, 3, 7]:
        for x in POINTS:
            print(f"Powi({n})", repr(x), f64(n * mp.power(mp.mpf(x), n - 1)))
    for name, (domain, partials) in BINARY.items():
        for a, b in PAIRS:
            if domain(mp.mpf(a), mp.mpf(b)):
                print(name, repr(a), repr(b), *map(f64, partials(mp.mpf(a), mp.mpf(b))))
    # The powf base partial where a^b itself over- or underflows.
    for a, b in [(1e-300, 1.5), (1e300, 1.5), (1e-200, 2.5), (1e200, 1.75), (0.5, 1100.0), (2.0, 1030.0)]:
        print("Powf", repr(a), repr(b), *map(f64, BINARY["Powf"][1](mp.mpf(a), mp.mpf(b))))


main()
