//! Printing results: aligned tables for people, one JSON object for scripts.

use chainrule::Matrix;
use serde::{Serialize, Serializer};

/// A number in the JSON output: finite numbers as JSON numbers (serde_json
/// writes the shortest text that reads back to the same `f64`); NaN and ±∞,
/// which JSON cannot write as numbers, as the strings `"NaN"`, `"Infinity"`
/// and `"-Infinity"`, which JavaScript's `Number()` and Python's `float()`
/// read back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number(pub f64);

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() {
            serializer.serialize_f64(x)
        } else if x.is_nan() {
            serializer.serialize_str("NaN")
        } else if x > 0.0 {
            serializer.serialize_str("Infinity")
        } else {
            serializer.serialize_str("-Infinity")
        }
    }
}

/// Numbers for the JSON output.
pub fn numbers(xs: &[f64]) -> Vec<Number> {
    xs.iter().copied().map(Number).collect()
}

/// A matrix's rows for the JSON output, read from the matrix itself.
pub fn rows(matrix: &Matrix<f64>) -> Vec<Vec<Number>> {
    (0..matrix.rows()).map(|i| numbers(matrix.row(i))).collect()
}

/// `output` as one line of JSON.
pub fn json_line(output: &impl Serialize) -> String {
    let mut line = serde_json::to_string(output)
        .expect("the CLI's output structs have string keys and Number values, which always serialize");
    line.push('\n');
    line
}

/// A number for people: the shortest text that reads back exactly (so at
/// least as many significant digits as the number has), in scientific
/// notation when very large or small.
pub fn human(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else if x == 0.0 || (1e-5..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A table whose first column is left-aligned and the others right-aligned.
#[derive(Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self, indent: &str) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::from(indent);
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c == 0 {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str("  ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

pub const NON_FINITE_WARNING: &str = "warning: the result contains NaN or infinite numbers \
(the function or a derivative is undefined or overflows at this point)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers_keep_their_digits() {
        assert_eq!(human(11.6520706618824), "11.6520706618824");
        assert_eq!(human(5.5), "5.5");
        assert_eq!(human(1e-9), "1e-9");
        assert_eq!(human(f64::NAN), "NaN");
    }

    #[test]
    fn json_non_finite_numbers_are_strings() {
        #[derive(Serialize)]
        struct Output {
            value: Vec<Number>,
        }
        let output = Output {
            value: numbers(&[1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.1]),
        };
        assert_eq!(
            json_line(&output),
            "{\"value\":[1.0,\"NaN\",\"Infinity\",\"-Infinity\",0.1]}\n"
        );
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::default();
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["long".into(), "22.5".into()]);
        assert_eq!(t.render(""), "a        1\nlong  22.5\n");
    }
}
