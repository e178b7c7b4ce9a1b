//! `init()` with a bad configuration fails with a message that names the
//! problem and the fix, and leaves obs uninitialised so a corrected call works.

#[test]
fn bad_configuration_is_a_clear_error() {
    // A taken port names the address and the fix.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err =
        obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr(addr.clone()).init().err().unwrap();
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("exporter `prometheus`: cannot listen on {addr}")), "{msg}");
    assert!(msg.contains("OBS_PROMETHEUS_ADDR"), "{msg}");
    let err = obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr("nonsense").init().err().unwrap();
    assert!(err.to_string().contains("`nonsense` is not a socket address"), "{err}");
    let err = obs_runtime::Builder::new().exporters(&["prometheus", "zipkin"]).init().err().unwrap();
    assert_eq!(
        err.to_string(),
        "Builder::exporters(`zipkin`) cannot be used: expected one of the exporters in this binary: logs, otlp, prometheus"
    );
    // Nothing was left half-initialised: a corrected call succeeds, once.
    drop(taken);
    let guard =
        obs_runtime::Builder::new().exporters(&["prometheus"]).prometheus_addr(addr).init().expect("corrected init");
    assert!(guard.prometheus_addr().is_some());
    assert_eq!(obs_runtime::init().err(), Some(obs_runtime::InitError::AlreadyInitialized));
}

/// A value a row of the README's table of configuration errors sets.
#[derive(Clone, Copy)]
enum Value {
    Text(&'static str),
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// The address of a port this test holds.
    PortInUse,
    /// A directory.
    Directory,
    /// A price file whose `input` is a word.
    MalformedPrices,
    /// A path under a regular file: nothing can be created there.
    UnderAFile,
}

/// One row of the table: the variable, its value (as the README shows it
/// in the second column), and the exporters init() starts (the error of
/// some values only shows when their exporter starts).
struct Case {
    var: &'static str,
    shown: &'static str,
    value: Value,
    exporters: Option<&'static [&'static str]>,
}

const fn case(var: &'static str, shown: &'static str, value: Value) -> Case {
    Case { var, shown, value, exporters: Some(&[]) }
}

const CASES: &[Case] = &[
    case("OBS_LOG_FORMAT", "<bytes that are not UTF-8>", Value::NotUtf8),
    Case { exporters: None, ..case("OBS_EXPORTERS", "zipkin", Value::Text("zipkin")) },
    Case { exporters: Some(&["prometheus"]), ..case("OBS_PROMETHEUS_ADDR", "nonsense", Value::Text("nonsense")) },
    Case { exporters: Some(&["prometheus"]), ..case("OBS_PROMETHEUS_ADDR", "<a port in use>", Value::PortInUse) },
    case("OBS_NAMESPACE", "my-app", Value::Text("my-app")),
    case("OBS_CARDINALITY_LIMIT", "0", Value::Text("0")),
    case("OBS_LABEL_VALUE_MAX_BYTES", "4", Value::Text("4")),
    case("OBS_PROMETHEUS_TOKEN", "hunter2", Value::Text("hunter2")),
    case("OBS_PROMETHEUS_MAX_CONNECTIONS", "0", Value::Text("0")),
    case("OBS_PROMETHEUS_TIMEOUT_SECS", "86400", Value::Text("86400")),
    case("OBS_HEALTH_CACHE_TTL", "2h", Value::Text("2h")),
    case("OBS_ERROR_LOG_LEVEL", "loud", Value::Text("loud")),
    Case { exporters: Some(&["logs"]), ..case("RUST_LOG", "info,my_agent=loud", Value::Text("info,my_agent=loud")) },
    case("OBS_LOG_FORMAT", "xml", Value::Text("xml")),
    Case { exporters: Some(&["logs"]), ..case("OBS_LOG_OUTPUT", "<a path under a regular file>", Value::UnderAFile) },
    case("OBS_LOG_ROTATION", "weekly", Value::Text("weekly")),
    case("OBS_LOG_MAX_FILES", "many", Value::Text("many")),
    case("OBS_LOG_SPANS", "some", Value::Text("some")),
    case("OBS_LOG_QUEUE", "0", Value::Text("0")),
    case("OBS_LOG_QUEUE_BYTES", "1024", Value::Text("1024")),
    case("OBS_PRICING_FILE", "/nonexistent/prices.json", Value::Text("/nonexistent/prices.json")),
    case("OBS_PRICING_FILE", "<a directory>", Value::Directory),
    case("OBS_PRICING_FILE", "<a file whose `input` is a word>", Value::MalformedPrices),
    case("OBS_HIGH_COST_USD", "-1", Value::Text("-1")),
    case("OBS_LEDGER_CAPACITY", "0", Value::Text("0")),
    case("OBS_CAPTURE_CONTENT", "yes", Value::Text("yes")),
    case("OBS_CAPTURE_MAX_BYTES", "2000000", Value::Text("2000000")),
    case("OBS_REDACT_KEY", "short", Value::Text("short")),
    case("OBS_BUDGET_REDIS_URL", "http://cache:6379", Value::Text("http://cache:6379")),
    case("OBS_BUDGET_REDIS_TIMEOUT", "0ms", Value::Text("0ms")),
    case("OBS_BUDGET_REDIS_REFRESH", "soon", Value::Text("soon")),
    case("OBS_BUDGET_REDIS_PREFIX", "obs budget", Value::Text("obs budget")),
    case("OBS_UI", "maybe", Value::Text("maybe")),
    case("OBS_UI_RUNS", "0", Value::Text("0")),
    case("OBS_UI_RUN_CALLS", "100001", Value::Text("100001")),
    case("OBS_UI_MAX_BYTES", "1024", Value::Text("1024")),
    case("OBS_CONVERSATION_IDLE_TIMEOUT", "0s", Value::Text("0s")),
    case("OBS_FEEDBACK_KEY", "short", Value::Text("short")),
    case("OBS_ALERT_INTERVAL", "1ms", Value::Text("1ms")),
    case("OBS_ALERT_WINDOW", "2d", Value::Text("2d")),
    case("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318", Value::Text("https://collector:4318")),
    case("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "collector:4318", Value::Text("collector:4318")),
    case("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", Value::Text("http/json")),
    case("OTEL_EXPORTER_OTLP_HEADERS", "api-key", Value::Text("api-key")),
    case("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", Value::Text("10s")),
    case("OTEL_TRACES_EXPORTER", "jaeger", Value::Text("jaeger")),
    case("OTEL_METRIC_EXPORT_INTERVAL", "1m", Value::Text("1m")),
    case("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "sometimes", Value::Text("sometimes")),
    case("OTEL_BSP_MAX_QUEUE_SIZE", "0", Value::Text("0")),
    case("OTEL_TRACES_SAMPLER", "xray", Value::Text("xray")),
    case("OTEL_TRACES_SAMPLER_ARG", "10%", Value::Text("10%")),
    case("OTEL_RESOURCE_ATTRIBUTES", "team", Value::Text("team")),
];

/// The README's table of configuration errors: (setting, value, message,
/// fix) of each row, the message with `…` where the text varies (a path,
/// a port, the system's words).
fn readme_rows() -> Vec<[String; 4]> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table = readme.split("### Configuration errors").nth(1).expect("the README's `### Configuration errors`");
    let code = |cell: &str| {
        let c = cell.trim();
        let c =
            c.strip_prefix("``").and_then(|c| c.strip_suffix("``")).or_else(|| c.strip_prefix('`')?.strip_suffix('`'));
        c.unwrap_or_else(|| panic!("a code span: {cell}")).trim().to_string()
    };
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            assert_eq!(cells.len(), 5, "setting | value | what is wrong | message | fix: {l}");
            // The setting's first code span is its variable (the builder method follows).
            let var = cells[0].split('`').nth(1).unwrap_or_else(|| panic!("a variable: {l}")).to_string();
            [var, code(cells[1]), code(cells[3]), code(cells[4])]
        })
        .collect()
}

/// Whether `text` is `pattern` where each `…` of it stands for any text.
fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return parts.len() == 1 && text == pattern;
    }
    if parts.len() == 1 {
        return text == pattern;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// A directory, a price file whose `input` is a word, and a regular file
/// (a path under it cannot be created).
struct Scratch {
    dir: std::path::PathBuf,
    prices: std::path::PathBuf,
    a_file: std::path::PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prices = dir.join("prices.json");
        std::fs::write(&prices, r#"{"format": "obs-pricing/1", "models": {"m": {"input": "cheap", "output": 1}}}"#)
            .unwrap();
        let a_file = dir.join("a-file");
        std::fs::write(&a_file, "").unwrap();
        Scratch { dir, prices, a_file }
    }
}

/// Every row of the README's table of configuration errors is what init()
/// says for that value: the message names the variable and the fix.
#[test]
fn every_configuration_error_in_the_readme_names_its_variable_and_the_fix() {
    use std::os::unix::ffi::OsStrExt;
    let Scratch { dir, prices, a_file } = Scratch::new("obs-config-errors");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    for v in ["RUST_LOG", "OBS_EXPORTERS", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
        std::env::remove_var(v);
    }

    let rows = readme_rows();
    assert_eq!(rows.len(), CASES.len(), "a row of the README's table without a case here, or the other way");
    for c in CASES {
        let value: std::ffi::OsString = match c.value {
            Value::Text(t) => t.into(),
            Value::NotUtf8 => std::ffi::OsStr::from_bytes(b"js\xffn").into(),
            Value::PortInUse => taken.local_addr().unwrap().to_string().into(),
            Value::Directory => dir.clone().into(),
            Value::MalformedPrices => prices.clone().into(),
            Value::UnderAFile => a_file.join("obs.log").into(),
        };
        std::env::set_var(c.var, &value);
        let mut b = obs_runtime::Builder::from_env();
        if let Some(e) = c.exporters {
            b = b.exporters(e);
        }
        let got = b.init().err().unwrap_or_else(|| panic!("{}={:?} was accepted", c.var, value)).to_string();
        std::env::remove_var(c.var);

        let row = rows
            .iter()
            .find(|r| r[0] == c.var && r[1] == c.shown)
            .unwrap_or_else(|| panic!("no README row for {} = `{}`; init() says:\n{got}", c.var, c.shown));
        let [_, _, message, fix] = row;
        assert!(matches(message, &got), "{}: the README says\n  {message}\ninit() says\n  {got}", c.var);
        assert!(got.contains(c.var), "{}: the message does not name the variable: {got}", c.var);
        assert!(got.contains(fix.as_str()), "{}: the message does not give the fix `{fix}`: {got}", c.var);
    }
    assert!(!obs_runtime::enabled());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same errors from the builder name the builder method, and give the
/// same fix (the table's rows, from code instead of the environment).
#[test]
fn every_builder_error_names_its_method_and_the_fix() {
    use obs_runtime::Builder;
    use std::time::Duration;
    let Scratch { dir, prices, a_file } = Scratch::new("obs-builder-errors");
    let none = || Builder::new().exporters(&[]);
    type Make = Box<dyn Fn() -> Builder>;
    let cases: Vec<(&str, Make, &str)> = vec![
        (
            "exporters",
            Box::new(|| Builder::new().exporters(&["zipkin"])),
            "expected one of the exporters in this binary",
        ),
        (
            "prometheus_addr",
            Box::new(|| Builder::new().exporters(&["prometheus"]).prometheus_addr("nonsense")),
            "to host:port, e.g. 127.0.0.1:9464",
        ),
        ("namespace", Box::new(move || none().namespace("my-app")), "expected a metric name prefix"),
        ("cardinality_limit", Box::new(move || none().cardinality_limit(0)), "at most 100000"),
        ("label_value_max_bytes", Box::new(move || none().label_value_max_bytes(4)), "from 16 to 65536"),
        (
            "prometheus_token",
            Box::new(move || none().prometheus_token("hunter2")),
            "16 to 4096 visible ASCII characters",
        ),
        ("prometheus_max_connections", Box::new(move || none().prometheus_max_connections(0)), "from 1 to 4096"),
        ("prometheus_timeout_secs", Box::new(move || none().prometheus_timeout_secs(86_400)), "from 1 to 3600"),
        ("health_cache_ttl", Box::new(move || none().health_cache_ttl(Duration::from_secs(7200))), "at most 1 hour"),
        (
            "log_filter",
            Box::new(|| Builder::new().exporters(&["logs"]).log_filter("info,my_agent=loud")),
            "write e.g. `info,my_agent=debug`",
        ),
        (
            "log_output",
            {
                let path = a_file.join("obs.log");
                Box::new(move || {
                    Builder::new()
                        .exporters(&["logs"])
                        .log_output(obs_runtime::export::logs::LogOutput::File(path.clone()))
                })
            },
            "set it to a file this process can create or write",
        ),
        ("log_queue", Box::new(move || none().log_queue(0)), "at most 1000000"),
        ("log_queue_bytes", Box::new(move || none().log_queue_bytes(1024)), "from 65536 to 1073741824"),
        (
            "pricing_file",
            Box::new(move || none().pricing_file("/nonexistent/prices.json")),
            "pass Builder::pricing_file a price file",
        ),
        (
            "pricing_file",
            {
                let d = dir.clone();
                Box::new(move || none().pricing_file(&d))
            },
            "it is a directory, not a file",
        ),
        (
            "pricing_file",
            {
                let p = prices.clone();
                Box::new(move || none().pricing_file(&p))
            },
            "correct it or pass Builder::pricing_file another price file",
        ),
        ("high_cost_usd", Box::new(move || none().high_cost_usd(-1.0)), "expected a cost in US dollars"),
        ("ledger_capacity", Box::new(move || none().ledger_capacity(0)), "at most 1000000"),
        ("capture_max_bytes", Box::new(move || none().capture_max_bytes(2_000_000)), "at most 1048576 (1 MiB"),
        ("redact_key", Box::new(move || none().redact_key("short")), "at least 16 bytes"),
        ("budget_redis_url", Box::new(move || none().budget_redis_url("http://cache:6379")), "expected a Redis URL"),
        (
            "budget_redis_timeout",
            Box::new(move || none().budget_redis_timeout(Duration::ZERO)),
            "a duration above zero",
        ),
        (
            "budget_redis_refresh",
            Box::new(move || none().budget_redis_refresh(Duration::ZERO)),
            "a duration above zero",
        ),
        ("budget_redis_prefix", Box::new(move || none().budget_redis_prefix("obs budget")), "without spaces"),
        ("alert_interval", Box::new(move || none().alert_interval(Duration::from_millis(1))), "from 10ms to 60m"),
        ("alert_window", Box::new(move || none().alert_window(Duration::from_secs(2 * 86_400))), "from 10ms to 1440m"),
        ("otlp_endpoint", Box::new(move || none().otlp_endpoint("https://collector:4318")), "expected an http:// URL"),
        ("otlp_headers", Box::new(move || none().otlp_headers(&[("api key", "x")])), "key=value pairs"),
    ];
    for (method, make, fix) in cases {
        let got = make().init().err().unwrap_or_else(|| panic!("Builder::{method}: accepted")).to_string();
        assert!(got.contains(&format!("Builder::{method}")), "the message does not name Builder::{method}: {got}");
        assert!(got.contains(fix), "Builder::{method}: no `{fix}` in: {got}");
    }
    assert!(!obs_runtime::enabled());
    let _ = std::fs::remove_dir_all(&dir);
}
