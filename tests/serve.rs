//! `chainrule serve` under valid and hostile requests: every answer is JSON
//! (data or an error), memory stays flat over a thousand requests, fifty at
//! once are all answered, and Ctrl-C stops the server cleanly.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

struct Server {
    child: Child,
    address: SocketAddr,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "chainrule serve: http://127.0.0.1:PORT/ (Ctrl-C to stop)"
        let url = line.split_whitespace().nth(2).expect("the address is printed");
        let address = url.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
        Server { child, address }
    }

    /// Sends raw bytes, returns the status and the body.
    fn send(&self, request: &[u8]) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(self.address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        stream.write_all(request).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a header");
        let head = String::from_utf8_lossy(&answer[..split]).to_string();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, answer[split + 4..].to_vec())
    }

    fn post(&self, body: &[u8]) -> (u16, Vec<u8>) {
        let mut request = format!(
            "POST /api/graph HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.send(&request)
    }

    fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn graph_request(expression: &str, point: &str) -> Vec<u8> {
    serde_json::json!({ "expression": expression, "point": point })
        .to_string()
        .into_bytes()
}

/// Valid and hostile requests, and what each must answer: data (`true`) or
/// an error (`false`).
fn requests() -> Vec<(Vec<u8>, bool)> {
    let deep = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
    let long = "x+".repeat(500_000) + "x";
    vec![
        (graph_request("ln(x1) + x1*x2 - sin(x2)", "x1=2,x2=5"), true),
        (graph_request("x*y; x+y; sin(x)", "x=1,y=2"), true),
        (graph_request("", ""), false),
        (graph_request("foo(x)", "x=1"), false),
        (graph_request("x +", "x=1"), false),
        (graph_request("x*y", "x=1"), false),
        (graph_request("x", "x=abc"), false),
        (graph_request(&deep, "x=1"), false),
        (graph_request(&long, "x=1"), false),
        (graph_request(&"x".repeat(1_000_001), "x=1"), false),
        (b"\xff\xfe{\"expression\": \"x\"}".to_vec(), false),
        (b"{\"expression\": \"x".to_vec(), false),
        (b"[1, 2, 3]".to_vec(), false),
        (b"{\"expression\": 5}".to_vec(), false),
        (
            b"{\"expression\": \"x\", \"point\": \"x=1\", \"stages\": [\"x*y; x\", 3]}".to_vec(),
            false,
        ),
        (
            serde_json::json!({"expression": "", "point": "x=1,y=2", "stages": ["x*y; x+y; sin(x)", "a*b*c; a-c"]})
                .to_string()
                .into_bytes(),
            true,
        ),
        (b"".to_vec(), false),
    ]
}

fn check_answer(status: u16, body: &[u8], data: bool, what: &str) {
    let answer: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{what}: the answer is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    if data {
        assert_eq!(status, 200, "{what}");
        assert!(answer["walkthrough"].is_object(), "{what}: {answer}");
        assert!(answer["error"].is_null(), "{what}: {answer}");
    } else {
        let message = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no error in {answer}"));
        assert!(!message.is_empty(), "{what}");
        assert!(status == 200 || (400..500).contains(&status), "{what}: status {status}");
    }
}

#[test]
fn every_request_is_answered_with_json_and_memory_stays_flat() {
    let server = Server::start();
    let cases = requests();
    // The page itself, and paths and methods that do not exist.
    let (status, page) = server.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("\"mode\":\"playground\""));
    let (status, body) = server.send(b"GET /api/graph HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 405);
    check_answer(status, &body, false, "GET /api/graph");
    let (status, body) = server.send(b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 404);
    check_answer(status, &body, false, "unknown path");
    let (status, body) =
        server.send(b"POST /api/graph HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n{}");
    assert_eq!(status, 413);
    check_answer(status, &body, false, "declared oversize body");

    let mut warm = 0;
    for k in 0..1000 {
        let (body, data) = &cases[k % cases.len()];
        let (status, answer) = server.post(body);
        check_answer(
            status,
            &answer,
            *data,
            &format!("request {k} (case {})", k % cases.len()),
        );
        if k == 199 {
            warm = server.resident_kib();
        }
    }
    let end = server.resident_kib();
    println!("resident memory: {warm} KiB after 200 requests, {end} KiB after 1000");
    assert!(
        end <= warm + 16 * 1024,
        "resident memory grew from {warm} KiB to {end} KiB over 800 requests"
    );
}

#[test]
fn fifty_requests_at_once_are_all_answered() {
    let server = std::sync::Arc::new(Server::start());
    let cases = std::sync::Arc::new(requests());
    let threads: Vec<_> = (0..50)
        .map(|k| {
            let (server, cases) = (server.clone(), cases.clone());
            std::thread::spawn(move || {
                let (body, data) = &cases[k % cases.len()];
                let (status, answer) = server.post(body);
                check_answer(status, &answer, *data, &format!("concurrent request {k}"));
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("every concurrent request is answered");
    }
}

#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let mut server = Server::start();
    let (status, _) = server.post(&graph_request("x*x", "x=3"));
    assert_eq!(status, 200);
    let interrupted = Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let mut rest = String::new();
    server.child.stdout.take().unwrap().read_to_string(&mut rest).unwrap();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(rest.contains("chainrule serve: stopped"), "{rest}");
}
