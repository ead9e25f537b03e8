//! A self-contained SVG chart of a run: two panels of grouped bars.
//!
//! The top panel is each proxy's CPU-seconds per GiB moved, the bars' subject; the bottom is
//! each target's throughput as a share of direct access. Every bar carries its value, so the
//! chart reads without the table.

use std::fmt::Write as _;

use super::{find, Summary};
use crate::scenario::Scenario;
use crate::targets::Kind;

const WIDTH: f64 = 960.0;
const PANEL_HEIGHT: f64 = 250.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 70.0;
const PANEL_GAP: f64 = 100.0;

/// The scenarios whose figures are per GiB, in chart order.
const DATA_SCENARIOS: [Scenario; 6] = [
    Scenario::LargePut,
    Scenario::LargeGet,
    Scenario::SmallPut,
    Scenario::SmallGet,
    Scenario::RangedGet,
    Scenario::MultipartPut,
];

/// One panel's groups: a label and a value (or none) per series.
struct Panel {
    title: String,
    unit_suffix: &'static str,
    groups: Vec<(String, Vec<Option<f64>>)>,
    series: Vec<Kind>,
    reference: Option<f64>,
}

/// The chart for `summary`, titled `title`.
pub fn chart(summary: &[Summary], title: &str) -> String {
    let cpu = Panel {
        title: "Proxy CPU-seconds per GiB moved (lower is better)".to_owned(),
        unit_suffix: "",
        groups: groups(
            summary,
            &DATA_SCENARIOS,
            &[Kind::Floor, Kind::Nginx, Kind::Cloak],
            |s| s.proxy_cpu_s_per_gib,
        ),
        series: vec![Kind::Floor, Kind::Nginx, Kind::Cloak],
        reference: None,
    };
    let mut with_list = DATA_SCENARIOS.to_vec();
    with_list.push(Scenario::List);
    let share = Panel {
        title: "Throughput as % of direct access (higher is better)".to_owned(),
        unit_suffix: "%",
        groups: groups(
            summary,
            &with_list,
            &[Kind::Floor, Kind::Nginx, Kind::Cloak],
            |s| {
                let direct = find(summary, s.scenario?, Kind::Direct)?.throughput()?;
                let own = s.throughput()?;
                (direct > 0.0).then(|| 100.0 * own / direct)
            },
        ),
        series: vec![Kind::Floor, Kind::Nginx, Kind::Cloak],
        reference: Some(100.0),
    };

    let height = TOP + 2.0 * PANEL_HEIGHT + PANEL_GAP + 60.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"24\" font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\">{}</text>",
        WIDTH / 2.0,
        escape(title)
    );
    legend(&mut svg, &cpu.series, 44.0);
    draw_panel(&mut svg, &cpu, TOP);
    draw_panel(&mut svg, &share, TOP + PANEL_HEIGHT + PANEL_GAP);
    svg += "</svg>\n";
    svg
}

fn groups(
    summary: &[Summary],
    scenarios: &[Scenario],
    series: &[Kind],
    value: impl Fn(&Summary) -> Option<f64>,
) -> Vec<(String, Vec<Option<f64>>)> {
    scenarios
        .iter()
        .filter_map(|&sc| {
            let values: Vec<Option<f64>> = series
                .iter()
                .map(|&k| find(summary, sc, k).and_then(&value))
                .collect();
            values
                .iter()
                .any(Option::is_some)
                .then(|| (sc.name().to_owned(), values))
        })
        .collect()
}

fn draw_panel(svg: &mut String, panel: &Panel, top: f64) {
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, PANEL_HEIGHT - 40.0);
    let base = top + 20.0 + plot_h;
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        top + 8.0,
        escape(&panel.title)
    );
    if panel.groups.is_empty() {
        let _ = writeln!(svg, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">no figures in this run</text>", LEFT + plot_w / 2.0, top + plot_h / 2.0);
        return;
    }
    let biggest = panel
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(0.0f64, |a, &b| a.max(b));
    let max = nice_ceiling(biggest.max(panel.reference.unwrap_or(0.0)) * 1.1);
    let y = |v: f64| base - plot_h * (v / max).clamp(0.0, 1.0);

    // Gridlines and the axis labels.
    for i in 0..=5 {
        let v = max * f64::from(i) / 5.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>",
            WIDTH - RIGHT,
            y = y(v)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#444\">{}{}</text>",
            LEFT - 6.0,
            y(v) + 4.0,
            tick(v),
            panel.unit_suffix
        );
    }
    if let Some(r) = panel.reference {
        let _ = writeln!(svg, "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#333\" stroke-dasharray=\"5,4\"/>", WIDTH - RIGHT, y = y(r));
    }

    let group_w = plot_w / panel.groups.len() as f64;
    let bar_w = (group_w * 0.8 / panel.series.len() as f64).min(48.0);
    for (g, (label, values)) in panel.groups.iter().enumerate() {
        let centre = LEFT + group_w * (g as f64 + 0.5);
        let first = centre - bar_w * panel.series.len() as f64 / 2.0;
        for (i, (value, kind)) in values.iter().zip(&panel.series).enumerate() {
            let x = first + bar_w * i as f64;
            let Some(v) = value else {
                let _ = writeln!(svg, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#999\" font-size=\"10\">n/a</text>", x + bar_w / 2.0, base - 4.0);
                continue;
            };
            let _ = writeln!(svg, "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>", y(*v), bar_w - 2.0, base - y(*v), colour(*kind), escape(label), kind, tick_precise(*v));
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
                x + bar_w / 2.0 - 1.0,
                y(*v) - 3.0,
                tick_precise(*v)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{centre:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            base + 18.0,
            escape(label)
        );
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{base:.1}\" y2=\"{base:.1}\" stroke=\"#333\"/>",
        WIDTH - RIGHT
    );
}

fn legend(svg: &mut String, series: &[Kind], y: f64) {
    let total = series.len() as f64 * 110.0;
    let mut x = (WIDTH - total) / 2.0;
    for kind in series {
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"14\" height=\"14\" fill=\"{}\"/>",
            y - 11.0,
            colour(*kind)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{y:.1}\">{kind}</text>",
            x + 20.0
        );
        x += 110.0;
    }
}

fn colour(kind: Kind) -> &'static str {
    match kind {
        Kind::Direct => "#2e7d32",
        Kind::Floor => "#8d99a6",
        Kind::Nginx => "#1f77b4",
        Kind::Cloak => "#e6701e",
    }
}

/// The smallest 1, 2, 2.5 or 5 times a power of ten at or above `v`.
pub fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|m| m * power >= v * (1.0 - 1e-12));
    step.unwrap_or(10.0) * power
}

fn tick(v: f64) -> String {
    if v == 0.0 || v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn tick_precise(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(scenario: Scenario, target: Kind, cpu: f64, mb: f64) -> Summary {
        Summary {
            scenario: Some(scenario),
            target: Some(target),
            repetitions_ok: 1,
            mb_per_s: Some(mb),
            proxy_cpu_s_per_gib: (target != Kind::Direct).then_some(cpu),
            ..Summary::default()
        }
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(0.7), 1.0);
        assert_eq!(nice_ceiling(1.3), 2.0);
        assert_eq!(nice_ceiling(2.2), 2.5);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(110.0), 200.0);
        assert_eq!(nice_ceiling(500.0), 500.0);
    }

    #[test]
    fn chart_is_balanced_svg_with_every_bar() {
        let s = vec![
            summary(Scenario::LargePut, Kind::Direct, 0.0, 800.0),
            summary(Scenario::LargePut, Kind::Floor, 0.6, 700.0),
            summary(Scenario::LargePut, Kind::Nginx, 1.0, 600.0),
            summary(Scenario::LargePut, Kind::Cloak, 0.9, 500.0),
        ];
        let svg = chart(&s, "run <1>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect").count(),
            svg.matches("</rect>").count() + 1 + 3
        );
        // Three CPU bars and three throughput bars.
        assert_eq!(svg.matches("<title>").count(), 6);
        assert!(svg.contains("run &lt;1&gt;"));
        assert!(
            svg.contains(">62.50<") || svg.contains(">62.5<"),
            "cloak at 62.5% of direct"
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn empty_summary_still_draws() {
        let svg = chart(&[], "nothing");
        assert!(svg.contains("no figures in this run"));
    }
}
