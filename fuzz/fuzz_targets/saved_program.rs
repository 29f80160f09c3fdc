//! Reads arbitrary bytes as a saved program (JSON). Whatever is accepted is
//! swept in every way a program offers at a point derived from the input;
//! nothing may panic, and a program must read back equal from its own
//! serialization.
#![no_main]

use chainrule::program::Program;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(program) = serde_json::from_slice::<Program<f64>>(data) else { return };
    let seed = data.iter().fold(0u32, |h, &b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let at = f64::from(seed % 1000) / 250.0 - 2.0;
    let x = vec![at; program.input_count()];
    let v = vec![1.0; program.input_count()];
    let u = vec![1.0; program.output_count()];
    let _ = program.eval(&x);
    let _ = program.value_and_gradient(&x);
    let _ = program.jvp(&x, &v);
    let _ = program.vjp(&x, &u);
    let _ = program.jacobian(&x);
    let _ = program.sparse_jacobian(&x);
    let _ = program.hessian(&x);
    let _ = program.sparse_hessian(&x);
    let _ = program.hvp(&x, &v);
    let text = serde_json::to_string(&program).expect("a program read from data has no custom rules");
    let again: Program<f64> = serde_json::from_str(&text).expect("a written program reads back");
    assert_eq!(again, program);
});
