//! Parses arbitrary text; whatever parses is printed, parsed again, bound to
//! its own variables and differentiated in both modes. Nothing may panic, and
//! the printed form must mean the same function.
#![no_main]

use chainrule::expr::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let program = match parse(text) {
        Ok(program) => program,
        Err(error) => {
            let _ = error.render(text);
            return;
        }
    };
    let printed = program.to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("printed form {printed:?} of {text:?} does not parse: {e}"));
    let names: Vec<String> = program.variables().to_vec();
    let point: Vec<f64> = (0..names.len()).map(|k| 0.5 + k as f64 * 0.25).collect();
    let f = program.bind(&names).expect("a program binds to its own variables");
    let g = again.bind(&names).expect("the reparsed program has the same variables");
    let values = f.eval(&point);
    let reparsed = g.eval(&point);
    for (a, b) in values.iter().zip(&reparsed) {
        assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "{text:?} printed as {printed:?}: {a} vs {b}");
    }
    if program.output_count() == 1 {
        let _ = chainrule::grad(|x| f.eval_one(x), &point);
        let _ = chainrule::jacfwd(|x| f.eval(x), &point);
    }
});
