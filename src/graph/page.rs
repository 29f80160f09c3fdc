//! The interactive page: one self-contained HTML file (style, script and
//! data inline, nothing fetched from the network) that plays a
//! [`Walkthrough`]'s sweeps step by step.
//!
//! The page's data is JSON made here from library values; its script only
//! copies texts into the picture and the trace table, so every number it
//! shows was computed by the library. The same page, in playground mode, is
//! what `chainrule serve` serves: it then asks the server for new
//! walkthroughs as the viewer types.

use serde_json::{Value, json};

use super::chain::ChainView;
use super::walkthrough::{SweepDirection, Walkthrough};

const TEMPLATE: &str = include_str!("page/index.html");
const STYLE: &str = include_str!("page/page.css");
const SCRIPT: &str = include_str!("page/page.js");

/// Everything one page shows.
///
/// ```
/// use chainrule::graph::{Page, capture};
/// use num_traits::Float;
///
/// let graph = capture(|x| vec![x[0].sin() * x[1]], &[1.0, 2.0])?.with_input_names(&["x", "y"])?;
/// let page = Page::new("sin(x)*y", "x=1,y=2").with_walkthrough(graph.walkthrough()?);
/// let html = page.to_html();
/// assert!(html.starts_with("<!doctype html>") && html.contains("forward: tangents along y"));
/// assert!(!html.contains("src=\"http") && !html.contains("href=\"http")); // nothing fetched
/// # Ok::<(), chainrule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The heading and the window title.
    pub title: String,
    /// The expression shown (and editable in the playground).
    pub expression: String,
    /// The point, as `name=value` pairs.
    pub point: String,
    /// Whether the page shows the input form and asks `api/graph` for new
    /// walkthroughs (`chainrule serve`).
    pub playground: bool,
    /// The graph and its sweeps.
    pub walkthrough: Option<Walkthrough>,
    /// The chain rule as a product of Jacobians, when the page shows one.
    pub chain: Option<ChainView>,
    /// An error to show instead of (or above) the graph.
    pub error: Option<String>,
}

impl Page {
    /// A static page for `expression` at `point`, with nothing on it yet.
    pub fn new(expression: &str, point: &str) -> Page {
        let title = if point.is_empty() {
            expression.to_string()
        } else {
            format!("{expression}  at  {point}")
        };
        Page {
            title,
            expression: expression.to_string(),
            point: point.to_string(),
            playground: false,
            walkthrough: None,
            chain: None,
            error: None,
        }
    }

    /// The page with this walkthrough.
    pub fn with_walkthrough(mut self, walkthrough: Walkthrough) -> Page {
        self.walkthrough = Some(walkthrough);
        self
    }

    /// The page with this chain-rule view.
    pub fn with_chain(mut self, chain: ChainView) -> Page {
        self.chain = Some(chain);
        self
    }

    /// The page's data, as the script reads it (and as `chainrule serve`
    /// answers `api/graph`).
    pub fn to_json(&self) -> Value {
        json!({
            "mode": if self.playground { "playground" } else { "static" },
            "title": self.title,
            "expression": self.expression,
            "point": self.point,
            "walkthrough": self.walkthrough.as_ref().map(walkthrough_json),
            "chain": self.chain.as_ref().map(ChainView::to_json),
            "error": self.error,
        })
    }

    /// The page as one HTML document.
    pub fn to_html(&self) -> String {
        // `<` is escaped inside the JSON so that no string in it can close the
        // script element it sits in.
        let data = self.to_json().to_string().replace('<', "\\u003c");
        TEMPLATE
            .replace("{{STYLE}}", STYLE)
            .replace("{{SCRIPT}}", SCRIPT)
            .replace("{{TITLE}}", &escape_html(&self.title))
            .replace("{{DATA}}", &data)
    }
}

fn walkthrough_json(walk: &Walkthrough) -> Value {
    let nodes: Vec<Value> = walk
        .nodes
        .iter()
        .map(|node| {
            json!({
                "id": node.id,
                "definition": node.definition,
                "known": node.known,
                "details": node.details,
                "edges": node.edges,
            })
        })
        .collect();
    let sweeps: Vec<Value> = walk
        .sweeps
        .iter()
        .map(|sweep| {
            let steps: Vec<Value> = sweep
                .steps
                .iter()
                .map(|step| {
                    json!({
                        "node": step.node,
                        "edge": step.edge.map(|(node, slot)| [node, slot]),
                        "lines": step.lines,
                        "sets": step.sets,
                    })
                })
                .collect();
            json!({
                "name": sweep.name,
                "direction": match sweep.direction {
                    SweepDirection::Forward => "forward",
                    SweepDirection::Reverse => "reverse",
                },
                "shows": sweep.shows,
                "fills": sweep.fills,
                "steps": steps,
            })
        })
        .collect();
    json!({
        "svg": walk.picture.to_svg(),
        "fields": walk.fields,
        "nodes": nodes,
        "sweeps": sweeps,
    })
}

/// Escapes text for HTML content.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::capture;

    #[test]
    fn script_breaking_text_stays_inside_the_data() {
        let graph = capture(|x| vec![x[0] * x[0]], &[3.0]).unwrap();
        let mut page = Page::new("</script><script>alert(1)</script>", "x=3");
        page.walkthrough = Some(graph.walkthrough().unwrap());
        let html = page.to_html();
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the page's own two scripts close"
        );
        assert!(!html.contains("<script>alert"));
        let data_start = html.find("type=\"application/json\">").unwrap();
        let data_end = data_start + html[data_start..].find("</script>").unwrap();
        let data: Value = serde_json::from_str(&html[data_start + 24..data_end]).unwrap();
        assert_eq!(data["expression"], "</script><script>alert(1)</script>");
    }
}
