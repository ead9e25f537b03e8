//! The report as text: aligned tables for the terminal and the same tables in markdown.

use std::fmt::Write as _;

use super::{Report, Summary};
use crate::targets::Kind;

/// A table of text cells.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Columns padded to their widest cell; numbers (every column but the first two) are
    /// aligned right.
    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|c| {
                let cells = self
                    .rows
                    .iter()
                    .map(|r| r.get(c).map_or(0, |s| s.chars().count()));
                cells
                    .chain([self.headers[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, &w))| {
                    if c < 2 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        let mut out = line(&self.headers) + "\n";
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        out += &(rule.join("  ") + "\n");
        for row in &self.rows {
            out += &(line(row) + "\n");
        }
        out
    }

    /// A GitHub-flavoured markdown table, with `|` in cells escaped.
    pub fn markdown(&self) -> String {
        let row = |cells: &[String]| {
            let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
            format!("| {} |\n", escaped.join(" | "))
        };
        let mut out = row(&self.headers);
        let rule: Vec<&str> = (0..self.headers.len())
            .map(|c| if c < 2 { "---" } else { "---:" })
            .collect();
        out += &format!("|{}|\n", rule.join("|"));
        for r in &self.rows {
            out += &row(r);
        }
        out
    }
}

/// The per-scenario figures for every target.
pub fn summary_table(summary: &[Summary]) -> Table {
    let mut table = Table::new(&[
        "scenario",
        "target",
        "MB/s",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "proxy CPU-s/GiB",
        "proxy CPU-ms/op",
        "proxy peak RSS MiB",
        "upstream CPU-s/GiB",
        "client CPU-s/GiB",
    ]);
    for s in summary {
        let scenario = s.scenario.map_or("?", |sc| sc.name()).to_owned();
        let target = s.target.map_or("?", Kind::name).to_owned();
        if s.repetitions_ok == 0 {
            let mut row = vec![scenario, target, "failed".to_owned()];
            row.resize(table.headers.len(), String::new());
            table.rows.push(row);
            continue;
        }
        table.rows.push(vec![
            scenario,
            target,
            num(s.mb_per_s, 1),
            num(s.ops_per_s, 1),
            num(s.p50_ms, 2),
            num(s.p99_ms, 2),
            num(s.proxy_cpu_s_per_gib, 2),
            num(s.proxy_cpu_ms_per_op, 3),
            num(s.proxy_peak_rss_mib, 1),
            num(s.upstream_cpu_s_per_gib, 2),
            num(s.client_cpu_s_per_gib, 2),
        ]);
    }
    table
}

/// Cloak's ratios to the other targets.
pub fn ratio_table(report: &Report) -> Table {
    let mut table = Table::new(&[
        "scenario",
        "metric",
        "Cloak/floor",
        "Cloak/nginx",
        "Cloak/direct",
    ]);
    for r in &report.ratios {
        table.rows.push(vec![
            r.scenario.name().to_owned(),
            r.metric.to_owned(),
            num(r.cloak_floor, 2),
            num(r.cloak_nginx, 2),
            num(r.cloak_direct, 2),
        ]);
    }
    table
}

/// The bars with their verdicts.
pub fn bar_table(report: &Report) -> Table {
    let mut table = Table::new(&["bar", "verdict", "target", "figure"]);
    for bar in &report.bars {
        table.rows.push(vec![
            bar.name.clone(),
            bar.verdict().to_owned(),
            bar.target.clone(),
            bar.figure.clone(),
        ]);
    }
    table
}

/// The whole report for the terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", headline(report));
    out += &summary_table(&report.summary).text();
    out += "\n";
    if report.ratios.is_empty() {
        out += "No ratios: Cloak has no figures in this run.\n";
    } else {
        out += &ratio_table(report).text();
    }
    out += "\n";
    out += &bar_table(report).text();
    out += &notes(report);
    out
}

/// The whole report as a markdown document.
pub fn markdown(report: &Report) -> String {
    let mut out = String::from("# Cloak load test\n\n");
    let _ = writeln!(out, "{}\n", headline(report));
    out += "## Figures\n\nMedians over the repetitions; peak RSS is the largest seen.\n\n";
    out += &summary_table(&report.summary).markdown();
    out += "\n## Cloak against the others\n\n";
    if report.ratios.is_empty() {
        out += "No ratios: Cloak has no figures in this run.\n";
    } else {
        out += &ratio_table(report).markdown();
    }
    out += "\n## Bars\n\n";
    out += &bar_table(report).markdown();
    out += "\n## Notes\n\n";
    out += &notes(report);
    out
}

fn headline(report: &Report) -> String {
    let targets: Vec<String> = report
        .targets
        .iter()
        .map(|t| match (&t.available, &t.reason) {
            (true, _) => format!("{}: available", t.kind),
            (false, Some(why)) => format!("{}: not available ({})", t.kind, clip(why, 120)),
            (false, None) => format!("{}: not available", t.kind),
        })
        .collect();
    let floor = match report.floor_runtime {
        crate::targets::floor::Runtime::CurrentThread => "current-thread",
        crate::targets::floor::Runtime::MultiThread => "multi-thread",
    };
    format!(
        "{} CPUs, kernel {}, {}, {} (flags: {}); {} repetitions, {:.0} s in all; floor on a {floor} runtime, \
         nginx with {} workers.\nTargets: {}.",
        report.machine.cpus,
        report.machine.kernel,
        report.machine.nginx,
        report.machine.rclone,
        report.upstream_flags.join(" "),
        report.plan.repetitions,
        report.duration_secs,
        report.nginx_workers,
        targets.join("; ")
    )
}

fn notes(report: &Report) -> String {
    let mut out = String::new();
    match report.cloak_encrypts {
        Some(true) => out +=
            "- Cloak encrypts: an object written through it differs upstream from its plaintext.\n",
        Some(false) => {
            out += "- Cloak does NOT encrypt: an object written through it is plaintext upstream.\n"
        }
        None => {}
    }
    if let Some(by) = report.listing_written_by {
        let _ = writeln!(out, "- The listing prefix was written through {by}.");
    }
    for s in &report.summary {
        if let (Some(sc), Some(t), Some(note)) = (s.scenario, s.target, &s.note) {
            if s.repetitions_ok > 0 && sc.once() {
                let _ = writeln!(out, "- {} / {t}: {note}.", sc.name());
            }
        }
        if s.repetitions_failed > 0 {
            let (sc, t) = (
                s.scenario.map_or("?", |x| x.name()),
                s.target.map_or("?", Kind::name),
            );
            let why = s.first_error.as_deref().unwrap_or("");
            let _ = writeln!(
                out,
                "- {sc} / {t}: {} of {} repetitions failed: {}",
                s.repetitions_failed,
                s.repetitions_failed + s.repetitions_ok,
                clip(why, 300)
            );
        }
    }
    out
}

fn num(value: Option<f64>, places: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.places$}"))
}

fn clip(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= max {
        return line.to_owned();
    }
    line.chars().take(max).collect::<String>() + "…"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_columns_line_up() {
        let mut t = Table::new(&["scenario", "target", "MB/s"]);
        t.rows
            .push(vec!["large-put".into(), "cloak".into(), "1234.5".into()]);
        t.rows
            .push(vec!["list".into(), "direct".into(), "7.0".into()]);
        let text = t.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[2].ends_with("1234.5") && lines[3].ends_with("   7.0"),
            "{text}"
        );
    }

    #[test]
    fn markdown_escapes_pipes() {
        let mut t = Table::new(&["a", "b", "c"]);
        t.rows.push(vec!["x|y".into(), "z".into(), "1".into()]);
        let md = t.markdown();
        assert!(md.contains("| x\\|y | z | 1 |"));
        assert!(md.lines().nth(1).unwrap().starts_with("|---|---|---:|"));
    }

    #[test]
    fn missing_numbers_show_as_a_dash() {
        assert_eq!(num(None, 2), "-");
        assert_eq!(num(Some(1.234), 2), "1.23");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
