//! `chainrule serve`: the interactive page as a local playground.
//!
//! `GET /` answers the page in playground mode; `POST /api/graph` takes
//! `{"expression": ..., "point": "x=1,y=2", "stages": [...]}` and answers the
//! page's data for it, or `{"error": ...}`: with status 200 for a mistake in
//! the expression or point, 4xx for a malformed request. It is computed by
//! the library exactly as `chainrule graph` and `chainrule chain` do, under
//! the same limits. The page never evaluates math itself.
//!
//! tiny_http is the server: a small, synchronous HTTP/1.1 library with four
//! dependencies and no async runtime, which is all a local page needs. A few
//! worker threads take requests from it; Ctrl-C stops them between requests.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chainrule::expr::{MAX_LENGTH, printable};
use chainrule::graph::Page;
use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::args::{Common, ServeArgs};
use crate::chain::Stages;
use crate::graphs::page_of;
use crate::{Failure, Problem, Report, finish_text};

/// Requests served at once.
const WORKERS: usize = 4;

/// The largest request body: the longest expression (4 bytes per character
/// at most), escaped as JSON, with room for the point and the stages.
const MAX_BODY: usize = 6 * MAX_LENGTH + 65_536;

/// Baydin et al.'s example, where the page starts by default.
const FIRST_EXPRESSION: &str = "ln(x1) + x1*x2 - sin(x2)";
const FIRST_POINT: &str = "x1=2,x2=5";

pub fn serve(args: &ServeArgs) -> Result<Report, Failure> {
    let expression = args.expr.clone().unwrap_or_else(|| FIRST_EXPRESSION.to_string());
    let point = match (&args.expr, &args.at) {
        (_, Some(at)) => at.clone(),
        (None, None) => FIRST_POINT.to_string(),
        (Some(_), None) => String::new(),
    };
    // The first page is checked like any request, so a bad start fails now.
    let first = playground_page(&expression, &point, &[]).map_err(|(_, message)| Failure::Message(message))?;
    let first_page = first.to_html();

    let address = format!("{}:{}", args.host, args.port);
    let server = Server::http(&address)
        .map_err(|e| Failure::Message(format!("cannot listen on {}: {e}", printable(&address))))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Failure::Message("the server has no IP address".into()))?;
    let url = format!("http://{bound}/");
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "chainrule serve: {url} (Ctrl-C to stop)");
        let _ = stdout.flush();
    }
    if !bound.ip().is_loopback() {
        eprintln!("warning: listening on {bound}: other machines can reach this server");
    }
    if args.open {
        open_browser(&url);
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .map_err(|e| Failure::Message(format!("cannot handle Ctrl-C: {e}")))?;
    }
    let server = Arc::new(server);
    let first_page = Arc::new(first_page);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, stop, first_page) = (Arc::clone(&server), Arc::clone(&stop), Arc::clone(&first_page));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match server.recv_timeout(Duration::from_millis(200)) {
                        Ok(Some(request)) => answer(request, &first_page),
                        Ok(None) => {}
                        Err(error) => {
                            eprintln!("error: the server stopped receiving: {error}");
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    Ok(finish_text("chainrule serve: stopped\n".into(), false))
}

/// Answers one request; a failure to send the answer (the client left) is
/// not the server's problem.
fn answer(mut request: Request, first_page: &str) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let response = match (request.method(), path.as_str()) {
        (Method::Get, "/") | (Method::Get, "/index.html") => html(first_page.to_string()),
        (Method::Post, "/api/graph") => match read_body(&mut request) {
            Ok(body) => {
                // The library returns errors for bad data; this guard only keeps a
                // bug from taking the whole server down.
                let outcome = std::panic::catch_unwind(|| graph_request(&body))
                    .unwrap_or_else(|_| Err((500, "internal error: please report this expression".into())));
                match outcome {
                    Ok(data) => json_response(200, &data),
                    Err((status, message)) => json_response(status, &json!({ "error": message })),
                }
            }
            Err((status, message)) => json_response(status, &json!({ "error": message })),
        },
        (_, "/") | (_, "/index.html") | (_, "/api/graph") => json_response(
            405,
            &json!({ "error": format!("{} is not allowed here: GET / for the page, POST /api/graph for data", request.method()) }),
        ),
        _ => json_response(
            404,
            &json!({ "error": format!("no page at '{}': GET / for the page, POST /api/graph for data", printable(&path)) }),
        ),
    };
    let _ = request.respond(response);
}

/// The body, at most [`MAX_BODY`] bytes of UTF-8.
fn read_body(request: &mut Request) -> Result<String, (u16, String)> {
    let too_long = || {
        (
            413,
            format!(
                "the request is longer than {MAX_BODY} bytes (expressions may have at most {MAX_LENGTH} characters)"
            ),
        )
    };
    if request.body_length().is_some_and(|length| length > MAX_BODY) {
        return Err(too_long());
    }
    let mut bytes = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (400, format!("cannot read the request: {e}")))?;
    if bytes.len() > MAX_BODY {
        return Err(too_long());
    }
    String::from_utf8(bytes).map_err(|e| {
        (
            400,
            format!(
                "the request is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// `{"expression", "point", "stages"}` to the page's data.
fn graph_request(body: &str) -> Result<Value, (u16, String)> {
    let request: Value =
        serde_json::from_str(body).map_err(|e| (400, format!("the request is not a JSON object: {e}")))?;
    let field = |name: &str| -> Result<String, (u16, String)> {
        match request.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(_) => Err((400, format!("'{name}' must be a string"))),
        }
    };
    if !request.is_object() {
        return Err((
            400,
            "the request must be a JSON object with 'expression' and 'point'".into(),
        ));
    }
    let expression = field("expression")?;
    let point = field("point")?;
    let stages: Vec<String> = match request.get("stages") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<String>>>()
            .ok_or((400, "'stages' must be a list of strings".to_string()))?,
        Some(_) => return Err((400, "'stages' must be a list of strings".into())),
    };
    playground_page(&expression, &point, &stages).map(|page| page.to_json())
}

/// The playground page's data: the expression's walkthrough, or the chain
/// view of `stages` when there are any.
fn playground_page(expression: &str, point: &str, stages: &[String]) -> Result<Page, (u16, String)> {
    let at = if point.trim().is_empty() { None } else { Some(point) };
    let page = if stages.iter().any(|s| !s.trim().is_empty()) {
        let stages: Vec<String> = stages.iter().filter(|s| !s.trim().is_empty()).cloned().collect();
        Stages::new(&stages, at).and_then(|stages| stages.view().and_then(|view| stages.page(view)))
    } else {
        if expression.trim().is_empty() {
            return Err((200, "type an expression, e.g. ln(x1) + x1*x2 - sin(x2)".into()));
        }
        let common = Common {
            expr: Some(expression.to_string()),
            file: None,
            at: at.map(str::to_string),
            json: false,
        };
        Problem::new(&common).and_then(|problem| page_of(&problem))
    };
    // A mistake in what the viewer typed is an answer (status 200 with an
    // error), not a failed request: typos must not fill the console with
    // network errors. Malformed requests get a 4xx status.
    let mut page = page.map_err(|failure| (200, failure.render()))?;
    page.playground = true;
    page.expression = expression.to_string();
    page.point = point.to_string();
    Ok(page)
}

fn html(body: String) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body).with_header(header("Content-Type", "text/html; charset=utf-8"))
}

fn json_response(status: u16, value: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(value.to_string())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json; charset=utf-8"))
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("constant headers are valid")
}

/// Opens `url` in the default browser, if the platform says how.
fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(error) = std::process::Command::new(program).arg(url).spawn() {
        eprintln!("warning: cannot open a browser ({program}: {error}); open {url} yourself");
    }
}
