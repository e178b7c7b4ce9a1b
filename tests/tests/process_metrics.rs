//! `process_*` and `build_info` on `/metrics`: the values `/proc/self` gives
//! at the same moment, under the names Prometheus' own clients use.

use obs_tests::{http_get, promtool_check};

fn value(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{series}` on the page:\n{page}"))
}

fn proc_stat_field(n: usize) -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    rest.split_whitespace().nth(n - 3).unwrap().parse().unwrap()
}

#[test]
fn process_metrics_and_build_info_match_the_process() {
    // SAFETY: set before any other thread of this process reads the environment.
    unsafe { std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", "service.version=2.3.1,deployment.environment=test") };
    let guard = obs_runtime::Builder::new()
        .service_name("proc-test")
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .init()
        .expect("init");
    let addr = guard.prometheus_addr().unwrap();
    // Some CPU time to count.
    let mut x = 0u64;
    for i in 0..20_000_000u64 {
        x = x.wrapping_add(i * i);
    }
    std::hint::black_box(x);

    let page = http_get(addr, "/metrics").unwrap().body;
    let (code, out) = promtool_check(&page);
    assert_eq!(code, 0, "promtool: {out}");

    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let soft: f64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l["Max open files".len()..].split_whitespace().next()?.parse().ok())
        .unwrap();
    assert_eq!(value(&page, "process_max_fds"), soft);

    let fds_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as f64;
    let fds = value(&page, "process_open_fds");
    assert!((fds - fds_now).abs() <= 4.0, "open fds {fds} vs {fds_now} now");

    let threads = value(&page, "process_threads");
    assert!(threads >= 2.0 && (threads - proc_stat_field(20) as f64).abs() <= 2.0, "threads {threads}");

    let rss = value(&page, "process_resident_memory_bytes");
    let statm: f64 =
        std::fs::read_to_string("/proc/self/statm").unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let rss_now = statm * 4096.0;
    assert!(rss > 0.0 && (rss - rss_now).abs() / rss_now < 0.5, "rss {rss} vs {rss_now}");
    assert!(value(&page, "process_virtual_memory_bytes") > rss);

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let start = value(&page, "process_start_time_seconds");
    assert!(start <= now && now - start < 600.0, "start {start}, now {now}");

    let cpu1 = value(&page, "process_cpu_seconds_total");
    assert!(cpu1 > 0.0, "cpu {cpu1}");
    for i in 0..20_000_000u64 {
        x = x.wrapping_add(i ^ (i >> 3));
    }
    std::hint::black_box(x);
    let page2 = http_get(addr, "/metrics").unwrap().body;
    let cpu2 = value(&page2, "process_cpu_seconds_total");
    assert!(cpu2 > cpu1, "cpu seconds go up: {cpu1} then {cpu2}");
    let ticks = (proc_stat_field(14) + proc_stat_field(15)) as f64 / 100.0;
    assert!(cpu2 <= ticks + 0.05, "cpu {cpu2} vs {ticks} from /proc");

    let info = format!(
        "build_info{{service=\"proc-test\",version=\"2.3.1\",obs_version=\"{}\",semconv_version=\"1.41.0\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&page, &info), 1.0, "{info}");
    assert_eq!(page.lines().filter(|l| l.starts_with("build_info{")).count(), 1);
}
