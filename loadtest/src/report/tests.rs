use super::*;
use crate::cli::{preset, Preset};

fn sample(secs: f64, bytes: u64, cpu: Option<f64>, rss: Option<u64>) -> Sample {
    Sample {
        secs,
        bytes,
        ops: 10,
        p50_ms: Some(secs),
        p99_ms: Some(secs * 2.0),
        proxy_cpu_s: cpu,
        proxy_peak_rss: rss,
        upstream_cpu_s: 1.0,
        client_cpu_s: 0.5,
        note: None,
    }
}

fn run(scenario: Scenario, target: Kind, rep: u32, sample: Option<Sample>) -> Run {
    Run {
        scenario,
        target,
        repetition: rep,
        error: sample.is_none().then(|| "boom\nmore".to_owned()),
        sample,
    }
}

const GIB_U: u64 = 1 << 30;

#[test]
fn summary_takes_medians_and_the_largest_peak() {
    let runs = vec![
        run(
            Scenario::LargePut,
            Kind::Cloak,
            0,
            Some(sample(1.0, GIB_U, Some(0.5), Some(10 << 20))),
        ),
        run(
            Scenario::LargePut,
            Kind::Cloak,
            1,
            Some(sample(2.0, GIB_U, Some(0.7), Some(30 << 20))),
        ),
        run(
            Scenario::LargePut,
            Kind::Cloak,
            2,
            Some(sample(4.0, GIB_U, Some(0.6), Some(20 << 20))),
        ),
        run(Scenario::LargePut, Kind::Cloak, 3, None),
    ];
    let s = &summarize(&runs, &[Scenario::LargePut], &[Kind::Cloak])[0];
    assert_eq!((s.repetitions_ok, s.repetitions_failed), (3, 1));
    let mb = GIB_U as f64 / 1e6;
    assert!((s.mb_per_s.unwrap() - mb / 2.0).abs() < 1e-9);
    assert!((s.proxy_cpu_s_per_gib.unwrap() - 0.6).abs() < 1e-9);
    assert_eq!(s.proxy_peak_rss_mib, Some(30.0));
    assert_eq!(s.p50_ms, Some(2.0));
    assert_eq!(s.first_error.as_deref(), Some("boom\nmore"));
}

fn summaries(cloak_cpu: f64, nginx_cpu: f64, floor_cpu: f64) -> Vec<Summary> {
    let mut out = Vec::new();
    for scenario in [Scenario::LargePut, Scenario::LargeGet] {
        for (kind, cpu, mb) in [
            (Kind::Direct, None, 1000.0),
            (Kind::Floor, Some(floor_cpu), 900.0),
            (Kind::Nginx, Some(nginx_cpu), 800.0),
            (Kind::Cloak, Some(cloak_cpu), 600.0),
        ] {
            out.push(Summary {
                scenario: Some(scenario),
                target: Some(kind),
                repetitions_ok: 1,
                mb_per_s: Some(mb),
                proxy_cpu_s_per_gib: cpu,
                ..Summary::default()
            });
        }
    }
    for (kind, p50) in [(Kind::Direct, 2.0), (Kind::Cloak, 2.8)] {
        out.push(Summary {
            scenario: Some(Scenario::LatencyGet),
            target: Some(kind),
            repetitions_ok: 1,
            p50_ms: Some(p50),
            ..Summary::default()
        });
    }
    out.push(Summary {
        scenario: Some(Scenario::MemoryGet),
        target: Some(Kind::Cloak),
        repetitions_ok: 1,
        proxy_peak_rss_mib: Some(100.0),
        ..Summary::default()
    });
    out
}

#[test]
fn ratios_divide_cloak_by_each_other_target() {
    let s = summaries(0.9, 1.2, 0.6);
    let r = ratios(&s, &[Scenario::LargePut]);
    let mb = r.iter().find(|r| r.metric == "MB/s").unwrap();
    assert_eq!(mb.cloak_direct, Some(0.6));
    assert_eq!(mb.cloak_nginx, Some(0.75));
    let cpu = r.iter().find(|r| r.metric == "proxy CPU-s/GiB").unwrap();
    assert!((cpu.cloak_floor.unwrap() - 1.5).abs() < 1e-9);
    assert_eq!(cpu.cloak_direct, None, "direct has no proxy");
}

#[test]
fn bars_judge_each_figure() {
    let plan = preset(Preset::Standard);
    let bars = bars::evaluate(&summaries(0.9, 1.2, 0.6), &plan, Some(true));
    let verdict = |name: &str| bars.iter().find(|b| b.name.contains(name)).unwrap().met;
    assert_eq!(verdict("PUT, vs nginx"), Some(true));
    assert_eq!(verdict("GET, vs floor"), Some(true));
    assert_eq!(verdict("peak RSS"), Some(true));
    assert_eq!(verdict("added over direct, GET"), Some(true));
    assert_eq!(
        verdict("added over direct, PUT"),
        None,
        "latency-put did not run"
    );

    let bars = bars::evaluate(&summaries(1.3, 1.2, 0.6), &plan, Some(true));
    let verdict = |name: &str| bars.iter().find(|b| b.name.contains(name)).unwrap().met;
    assert_eq!(verdict("PUT, vs nginx"), Some(false));
    assert_eq!(verdict("PUT, vs floor"), Some(false));
}

#[test]
fn plaintext_upstream_fails_the_nginx_bar() {
    let plan = preset(Preset::Standard);
    let bars = bars::evaluate(&summaries(0.1, 1.2, 0.6), &plan, Some(false));
    assert_eq!(bars[0].met, Some(false));
    assert!(bars[0].figure.contains("plaintext"));
}

#[test]
fn missing_cloak_leaves_bars_unmeasured() {
    let plan = preset(Preset::Standard);
    let s: Vec<Summary> = summaries(0.9, 1.2, 0.6)
        .into_iter()
        .filter(|s| s.target != Some(Kind::Cloak))
        .collect();
    let bars = bars::evaluate(&s, &plan, None);
    assert!(bars.iter().all(|b| b.met.is_none()));
    assert!(bars[0].figure.contains("cloak did not run"));
}
