//! Printing results: aligned tables for people, one JSON object for scripts.

use serde_json::{Map, Value};

/// Collects the JSON object and remembers whether any number was not finite.
#[derive(Default)]
pub struct Json {
    object: Map<String, Value>,
    pub non_finite: bool,
}

impl Json {
    pub fn number(&mut self, x: f64) -> Value {
        match serde_json::Number::from_f64(x) {
            Some(n) => Value::Number(n),
            None => {
                self.non_finite = true;
                Value::String(
                    if x.is_nan() {
                        "NaN"
                    } else if x > 0.0 {
                        "Infinity"
                    } else {
                        "-Infinity"
                    }
                    .into(),
                )
            }
        }
    }

    pub fn numbers(&mut self, xs: &[f64]) -> Value {
        Value::Array(xs.iter().map(|&x| self.number(x)).collect())
    }

    pub fn rows(&mut self, rows: &[Vec<f64>]) -> Value {
        Value::Array(rows.iter().map(|r| self.numbers(r)).collect())
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.object.insert(key.to_string(), value);
    }

    pub fn set_number(&mut self, key: &str, x: f64) {
        let value = self.number(x);
        self.set(key, value);
    }

    pub fn set_numbers(&mut self, key: &str, xs: &[f64]) {
        let value = self.numbers(xs);
        self.set(key, value);
    }

    pub fn set_rows(&mut self, key: &str, rows: &[Vec<f64>]) {
        let value = self.rows(rows);
        self.set(key, value);
    }

    pub fn strings(names: &[String]) -> Value {
        Value::Array(names.iter().cloned().map(Value::String).collect())
    }

    /// The object as one line of JSON. serde_json prints each f64 as the
    /// shortest text that reads back to the same number.
    pub fn finish(self) -> (String, bool) {
        (Value::Object(self.object).to_string(), self.non_finite)
    }
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
        let mut json = Json::default();
        let v = json.numbers(&[1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        json.set("value", v);
        assert_eq!(
            json.finish(),
            (r#"{"value":[1.0,"NaN","Infinity","-Infinity"]}"#.to_string(), true)
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
