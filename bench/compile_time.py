#!/usr/bin/env python3
"""Release build time of one generic function at each nesting of chainrule's numbers.

    bench/compile_time.py [--ops 90] [--json]

Writes a small crate under bench/build/compile-time that depends on this
checkout of chainrule, with one function of about OPS elementary operations
(products, sums, quotients, sin, cos, exp, ln, tanh over six inputs; the same
function every run, from a fixed seed) and one binary per number type:
f64 forward and reverse (`Dual`, `DualN`, `Var`), and the nestings
`Var<Dual>` (hvp), `Var<DualN>` (hessian), `Dual<Var>` (forward over reverse)
and `Dual<Dual>`. chainrule and the crate's dependencies are built once first;
then each binary is rebuilt alone (its source touched) and timed, and run, so
its derivative is printed beside its build time. With --json, one JSON
record per binary (the form bench/run collects) instead.
"""

import argparse
import json
import pathlib
import random
import subprocess
import time

HERE = pathlib.Path(__file__).resolve().parent
CRATE = HERE / "build" / "compile-time"

MAINS = {
    "var": "println!(\"{:?}\", chainrule::grad(|x| f(x), &X).unwrap());",
    "dual": "println!(\"{:?}\", chainrule::jvp(|x| vec![f(x)], &X, &E0).unwrap().1);",
    "dualn": "println!(\"{:?}\", chainrule::jacfwd(|x| vec![f(x)], &X).unwrap().row(0).to_vec());",
    "var_dual": "println!(\"{:?}\", chainrule::hvp(|x| f(x), &X, &E0).unwrap());",
    "var_dualn": "println!(\"{:?}\", chainrule::hessian(|x| f(x), &X).unwrap().row(0).to_vec());",
    "dual_var": """let rec = Recording::<f64>::new();
    let xs = rec.inputs(&X);
    let duals: Vec<_> = xs.iter().zip(E0).map(|(&v, e)| Dual::new(v, Var::constant(e))).collect();
    let y = f(std::hint::black_box(&duals));
    println!("{:?}", rec.gradient(y.tangent).unwrap());""",
    "dual_dual": """let x: Vec<Dual<Dual<f64>>> =
        X.iter().zip(E0).map(|(&v, e)| Dual::new(Dual::new(v, e), Dual::new(e, 0.0))).collect();
    println!("{}", f(std::hint::black_box(&x)).tangent.tangent);""",
}


def function(ops: int) -> str:
    """A fixed generic function of about `ops` elementary operations."""
    rng = random.Random(7)
    forms = [
        "{a} * {b}", "{a} + {b}", "{a}.sin()", "{a} - {b}", "({a} * {a} + T::one()).ln()",
        "{a} / ({b} * {b} + T::one())", "{a}.cos()", "({a} * T::from(0.1).unwrap()).exp()", "{a}.tanh()",
    ]
    lines = []
    for i in range(ops):
        def name(k: int) -> str:
            return f"x[{k}]" if k < 6 else f"t{k - 6}"
        a, b = name(rng.randrange(i + 6)), name(rng.randrange(i + 6))
        lines.append(f"    let t{i} = {forms[i % len(forms)].format(a=a, b=b)};")
    used = " + ".join(f"t{i}" for i in range(ops))
    return "#[inline(never)]\npub fn f<T: Real>(x: &[T]) -> T {\n" + "\n".join(lines) + f"\n    {used}\n}}\n"


def write_crate(ops: int) -> None:
    (CRATE / "src" / "bin").mkdir(parents=True, exist_ok=True)
    (CRATE / "Cargo.toml").write_text(
        "[package]\nname = \"compile-time\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n"
        f"[dependencies]\nchainrule = {{ path = \"{HERE.parent}\" }}\nnum-traits = \"0.2\"\n\n[workspace]\n"
    )
    shared = (
        "#![allow(unused)]\nuse chainrule::{Dual, Real, Recording, Var};\n\n"
        "const X: [f64; 6] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];\n"
        "const E0: [f64; 6] = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0];\n\n" + function(ops)
    )
    for name, body in MAINS.items():
        (CRATE / "src" / "bin" / f"{name}.rs").write_text(shared + f"\nfn main() {{\n    {body}\n}}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=90)
    parser.add_argument("--json", action="store_true", help="print one JSON record per binary")
    options = parser.parse_args()
    ops = options.ops
    write_crate(ops)
    cargo = ["cargo", "build", "--release", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml")]
    print(f"building chainrule and the dependencies once ({ops} operations per function)...", flush=True)
    subprocess.run(cargo + ["--bin", "dual"], check=True)
    for name in MAINS:
        (CRATE / "src" / "bin" / f"{name}.rs").touch()
        start = time.monotonic()
        subprocess.run(cargo + ["--bin", name], check=True)
        seconds = time.monotonic() - start
        binary = CRATE / "target" / "release" / name
        output = subprocess.run([str(binary)], check=True, capture_output=True, text=True).stdout.strip()
        if options.json:
            record = {"workload": f"release_build_{ops}_ops", "n": ops, "system": f"chainrule-{name}",
                      "median_s": seconds, "runs": 1, "note": output[:60]}
            print(json.dumps(record), flush=True)
        else:
            print(f"{name:10} {seconds:6.1f} s   {output[:70]}", flush=True)


if __name__ == "__main__":
    main()
