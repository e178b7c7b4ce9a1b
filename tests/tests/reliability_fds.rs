//! The endpoint survives the process running out of file descriptors
//! (issue 13, item 1): a child process with `ulimit -n 256` serves
//! Prometheus, holds 300 idle connections from this process, then exhausts
//! its descriptors; the endpoint must keep running through the failed
//! accepts and serve `/metrics`, `/ready`, `/health` and `/summary` again
//! once the descriptors are returned. Before the fix the accept back-off
//! panicked ("timers are disabled") and the endpoint stayed down for good.

use obs_tests::http_get;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, pass or fail.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Generous: only a broken endpoint or child makes a wait this long.
const WAIT: Duration = Duration::from_secs(60);

fn expect_line(lines: &Receiver<String>, prefix: &str) -> String {
    let deadline = Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            // libtest may print `test name ... ` before the child's first line.
            Ok(l) if l.contains(prefix) => return l[l.find(prefix).unwrap() + prefix.len()..].trim().to_string(),
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    panic!("the child never printed `{prefix}`");
}

fn say(stdin: &mut ChildStdin, cmd: &str) {
    writeln!(stdin, "{cmd}").unwrap();
    stdin.flush().unwrap();
}

/// `GET path` until it answers 200, for at most `within`.
fn get_ok(addr: SocketAddr, path: &str, within: Duration) -> obs_tests::HttpResponse {
    let deadline = Instant::now() + within;
    loop {
        match http_get(addr, path) {
            Ok(r) if r.status == 200 => return r,
            other if Instant::now() > deadline => panic!("{path} not served after {within:?}: {other:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[test]
fn endpoint_survives_descriptor_exhaustion_and_serves_again() {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 256 && exec "$0" --exact fd_exhaustion_child --ignored --nocapture --test-threads 1"#)
        .arg(&exe)
        .env("OBS_RELIABILITY_FD_CHILD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut kid = Kid(child);
    let mut stdin = kid.0.stdin.take().unwrap();
    let stdout = kid.0.stdout.take().unwrap();
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let addr: SocketAddr = expect_line(&lines, "ADDR ").parse().unwrap();
    get_ok(addr, "/health", WAIT);
    let open_fds = |stdin: &mut ChildStdin| -> usize {
        say(stdin, "FDS");
        expect_line(&lines, "FDS ").parse().unwrap()
    };
    let before = open_fds(&mut stdin);

    // More idle connections than the child has descriptors: the cap closes
    // the oldest idle ones, so the child keeps descriptors and /ready answers.
    let idle: Vec<TcpStream> = (0..300).filter_map(|_| TcpStream::connect(addr).ok()).collect();
    assert_eq!(idle.len(), 300);
    let t = Instant::now();
    let ready = get_ok(addr, "/ready", WAIT);
    assert_eq!(ready.body, "{\"status\":\"ready\"}\n");
    eprintln!("/ready with 300 idle connections open: {:?}", t.elapsed());
    drop(idle);
    // The child closes its side of them before it takes every descriptor
    // (else one closed later would let it accept while "exhausted").
    let deadline = Instant::now() + WAIT;
    loop {
        let now_open = open_fds(&mut stdin);
        if now_open <= before {
            break;
        }
        assert!(Instant::now() < deadline, "the child still has {now_open} descriptors open, {before} before");
        std::thread::sleep(Duration::from_millis(20));
    }

    say(&mut stdin, "EXHAUST");
    let held: usize = expect_line(&lines, "EXHAUSTED ").parse().unwrap();
    assert!(held > 100, "the child held only {held} descriptors");
    // While exhausted, connections wait in the backlog and accept fails
    // again and again (each a back-off of the accept loop).
    let mut pending = TcpStream::connect(addr).unwrap();
    pending.set_read_timeout(Some(Duration::from_millis(600))).unwrap();
    write!(pending, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = [0u8; 64];
    let early = std::io::Read::read(&mut pending, &mut buf);
    assert!(early.is_err(), "served while out of descriptors? {early:?}");

    say(&mut stdin, "RELEASE");
    expect_line(&lines, "RELEASED");
    let t = Instant::now();
    for path in ["/metrics", "/ready", "/health", "/summary"] {
        let r = get_ok(addr, path, WAIT);
        assert!(!r.body.is_empty(), "{path}");
        if path == "/metrics" {
            assert!(r.body.contains("\nfd_child_ticks_total 1\n"), "{}", r.body);
        }
    }
    eprintln!("served again {:?} after the descriptors were returned", t.elapsed());
    // The connection that waited through the exhaustion is answered too.
    pending.set_read_timeout(Some(WAIT)).unwrap();
    let mut all = Vec::new();
    let _ = std::io::Read::read_to_end(&mut pending, &mut all);
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&all));

    say(&mut stdin, "EXIT");
    let status = kid.0.wait().unwrap();
    assert!(status.success(), "child: {status}");
}

/// The child of the test above (run by it with a lowered descriptor limit).
#[test]
#[ignore = "run by endpoint_survives_descriptor_exhaustion_and_serves_again in a child process"]
fn fd_exhaustion_child() {
    assert_eq!(std::env::var("OBS_RELIABILITY_FD_CHILD").as_deref(), Ok("1"), "run by the test above");
    let guard = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("127.0.0.1:0").init().unwrap();
    obs_runtime::metrics::counter("fd_child_ticks_total", "Ticks.", &[]).unwrap().increment(1);
    println!("ADDR {}", guard.prometheus_addr().unwrap());
    let mut held = Vec::new();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        match line.trim() {
            "EXHAUST" => {
                while let Ok(f) = std::fs::File::open("/dev/null") {
                    held.push(f);
                }
                println!("EXHAUSTED {}", held.len());
            }
            "FDS" => println!("FDS {}", std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)),
            "RELEASE" => {
                held.clear();
                println!("RELEASED");
            }
            "EXIT" => break,
            _ => {}
        }
    }
    drop(guard);
}
