//! The `chainrule` command line.

fn main() {
    println!("chainrule {}", env!("CARGO_PKG_VERSION"));
}
