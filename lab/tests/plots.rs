//! Every plot of the lab, rendered from the book's recorded run
//! (`docs/generated/tour.json`), read back as SVG and checked against the data it was
//! drawn from: each series drawn once, a legend entry per series, named as the data
//! names it, and one colour per runtime across every plot (variants of a runtime in
//! its hue).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use turnstile_lab::experiments::ExperimentReport;
use turnstile_lab::tour::TourReport;

/// One SVG element: its tag, attributes, and text (for `<text>`).
#[derive(Debug, Clone)]
struct El {
    tag: String,
    attrs: BTreeMap<String, String>,
    text: String,
}

impl El {
    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }
}

/// The elements of an SVG as plotters writes it (one element per tag, attributes in
/// double quotes), in document order.
fn parse(svg: &str) -> Vec<El> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>').expect("a closed tag");
        let inside = &rest[..end];
        rest = &rest[end + 1..];
        if inside.starts_with('/') || inside.starts_with('?') || inside.starts_with('!') {
            continue;
        }
        let inside = inside.trim_end_matches('/');
        let (tag, mut attrs_text) = inside.split_once(' ').unwrap_or((inside, ""));
        let mut attrs = BTreeMap::new();
        while let Some(eq) = attrs_text.find("=\"") {
            let name = attrs_text[..eq].trim().to_string();
            let after = &attrs_text[eq + 2..];
            let close = after.find('"').expect("a closed attribute");
            attrs.insert(name, after[..close].to_string());
            attrs_text = &after[close + 1..];
        }
        let text = if tag == "text" {
            let close = rest.find("</text>").expect("a closed text");
            unescape(rest[..close].trim())
        } else {
            String::new()
        };
        out.push(El {
            tag: tag.to_string(),
            attrs,
            text,
        });
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// `#RRGGBB` as its hue in degrees and its saturation.
fn hue(color: &str) -> (f64, f64) {
    let c = color.trim_start_matches('#');
    let v = |i: usize| u8::from_str_radix(&c[i..i + 2], 16).expect("a hex colour") as f64 / 255.0;
    let (r, g, b) = (v(0), v(2), v(4));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    if d < 1e-9 {
        return (0.0, 0.0);
    }
    let h = if max == r {
        60.0 * (((g - b) / d).rem_euclid(6.0))
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (h, d / (1.0 - (max + min - 1.0).abs()).max(1e-9))
}

/// Whose a legend name is: the runtime it starts with.
fn who(name: &str) -> &'static str {
    for who in ["turnstile", "tokio", "smol", "asyncio + uvloop", "asyncio"] {
        if name.starts_with(who) {
            return who;
        }
    }
    "reference"
}

/// The legend entries of a plot: each legend text and the colour of its glyph, the bar
/// (16 wide for lines and strips, 12 for bars) just left of it on its line.
fn legend(els: &[El], names: &BTreeSet<String>) -> Vec<(String, String)> {
    let num = |e: &El, a: &str| e.attr(a).parse::<f64>().unwrap_or(f64::NAN);
    let mut out = Vec::new();
    for el in els {
        if el.tag != "text" || !names.contains(&el.text) {
            continue;
        }
        let centre = num(el, "y") + if el.attr("dy") == "0.76em" { 5.0 } else { 0.0 };
        let x = num(el, "x");
        let glyph = els
            .iter()
            .find(|e| {
                e.tag == "rect"
                    && matches!(e.attr("width"), "16" | "12")
                    && (num(e, "y") + num(e, "height") / 2.0 - centre).abs() < 8.0
                    && num(e, "x") < x
                    && x - num(e, "x") < 60.0
            })
            .unwrap_or_else(|| panic!("no legend glyph beside {:?}", el.text));
        out.push((el.text.clone(), glyph.attr("fill").to_uppercase()));
    }
    out
}

fn recorded() -> TourReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/generated/tour.json");
    let text = std::fs::read_to_string(&path).expect("docs/generated/tour.json");
    serde_json::from_str(&text).expect("the recorded tour fits the lab's reports")
}

/// The series names a plot must show, from the recorded data itself.
fn expected(name: &str, report: &Value) -> BTreeSet<String> {
    let rows = report["rows"].as_array().cloned().unwrap_or_default();
    let python = report["python"]["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let py_name = |run: &Value| match run["python"].as_str().unwrap() {
        "uvloop" => "asyncio + uvloop".to_string(),
        other => other.to_string(),
    };
    let rt = |r: &Value| r["runtime"].as_str().unwrap().to_string();
    let mut out = BTreeSet::new();
    match name {
        "cpu-share" => {
            let label = |b: &Value| b.as_str().unwrap().replace('-', "_");
            for r in &rows {
                out.insert(format!("{}, {}", rt(r), label(&r["burst"])));
            }
            for run in &python {
                for f in run["figures"].as_array().unwrap() {
                    out.insert(format!("{}, {}", py_name(run), label(&f["burst"])));
                }
            }
        }
        "limit" => {
            for r in &rows {
                let style = match r["style"].as_str().unwrap() {
                    "plain" => "plain batches".to_string(),
                    other => other.replace('-', "_"),
                };
                out.insert(format!("{}, {style}", rt(r)));
            }
        }
        "echo" => {
            let proto = |v: &Value| v.as_str().unwrap().to_uppercase();
            for r in &rows {
                out.insert(format!("{}, {}", rt(r), proto(&r["proto"])));
            }
            for run in &python {
                for f in run["figures"].as_array().unwrap() {
                    out.insert(format!("{}, {}", py_name(run), proto(&f["proto"])));
                }
            }
        }
        "stall" | "neighbours" | "http" => {
            for r in &rows {
                out.insert(rt(r));
            }
        }
        "memory" => {
            for r in report["idle"].as_array().unwrap() {
                out.insert(rt(r));
            }
        }
        "gather" => {
            for r in &rows {
                out.insert(rt(r));
            }
            for run in &python {
                out.insert(py_name(run));
            }
            out.insert("ideal (the sleeps alone)".into());
            out.insert("Python asyncio (article)".into());
        }
        "yield-cost" => {
            for r in &rows {
                match r["runtime"].as_str() {
                    Some(rt) => out.insert(rt.to_string()),
                    None => out.insert("Rust, no runtime".to_string()),
                };
            }
            for run in &python {
                out.insert(py_name(run));
            }
        }
        "chain" => {
            out.insert("turnstile".into());
            for run in &python {
                if run["figures"]["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| !r["run_once"].is_null())
                {
                    out.insert(py_name(run));
                }
            }
        }
        other => panic!("no expectation for the plot of {other}"),
    }
    out
}

#[test]
fn every_plot_draws_each_series_once_in_its_runtimes_colour() {
    let tour = recorded();
    let dir = tempfile::tempdir().unwrap();
    // The colour of each runtime's first variant, across every plot.
    let mut base: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut hues: BTreeMap<&'static str, f64> = BTreeMap::new();
    for experiment in &tour.experiments {
        let report = experiment.as_report();
        let name = report.name();
        let path = dir.path().join(format!("{name}.svg"));
        report.plot(&path).unwrap();
        if let Some(keep) = std::env::var_os("PLOTS_KEEP") {
            std::fs::copy(&path, Path::new(&keep).join(format!("{name}.svg"))).unwrap();
        }
        let svg = std::fs::read_to_string(&path).unwrap();
        let els = parse(&svg);
        let data = serde_json::to_value(experiment).unwrap()["report"].clone();
        let names = expected(name, &data);
        let entries = legend(&els, &names);
        let shown: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        let shown_set: BTreeSet<String> = shown.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            shown_set, names,
            "{name}: the legend names the data's series"
        );
        assert_eq!(
            shown.len(),
            names.len(),
            "{name}: one legend entry per series: {shown:?}"
        );

        let colours: BTreeSet<&str> = entries.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(
            colours.len(),
            entries.len(),
            "{name}: a colour per series: {entries:?}"
        );
        for (series, colour) in &entries {
            let w = who(series);
            let (h, sat) = hue(colour);
            if w == "reference" {
                assert!(sat < 0.05, "{name}: {series} is grey, not {colour}");
                continue;
            }
            assert!(sat > 0.2, "{name}: {series}: {colour} has a hue");
            let seen = *hues.entry(w).or_insert(h);
            assert!(
                (seen - h).abs() < 4.0,
                "{name}: {series}'s {colour} is {w}'s hue"
            );
            let first = !series.contains(", ")
                || series.ends_with(", inline")
                || series.ends_with(", plain batches")
                || series.ends_with(", TCP");
            if first {
                let c = base.entry(w).or_insert_with(|| colour.clone());
                assert_eq!(c, colour, "{name}: {series} has {w}'s colour in every plot");
            }
        }
        match experiment {
            ExperimentReport::CpuShare(_)
            | ExperimentReport::Limit(_)
            | ExperimentReport::Echo(_)
            | ExperimentReport::Neighbours(_)
            | ExperimentReport::Stall(_) => {
                // Lines: each series one polyline of its colour (per panel for stall).
                let panels = if let ExperimentReport::Stall(s) = experiment {
                    let mut ways: Vec<_> = s.rows.iter().map(|r| format!("{:?}", r.way)).collect();
                    ways.sort();
                    ways.dedup();
                    ways.len()
                } else {
                    1
                };
                for (series, colour) in &entries {
                    let lines = els
                        .iter()
                        .filter(|e| {
                            e.tag == "polyline" && e.attr("stroke").eq_ignore_ascii_case(colour)
                        })
                        .count();
                    let want = if let ExperimentReport::Stall(s) = experiment {
                        s.rows
                            .iter()
                            .filter(|r| r.runtime.to_string() == *series)
                            .count()
                    } else {
                        1
                    };
                    assert!(want <= panels);
                    assert_eq!(
                        lines, want,
                        "{name}: {series} is drawn {lines} times, not {want}"
                    );
                }
            }
            ExperimentReport::Chain(c) => {
                let strip = c.strip();
                for row in &strip.rows {
                    assert!(
                        els.iter().any(|e| e.tag == "text" && e.text == row.label),
                        "chain: the row {:?}",
                        row.label
                    );
                }
                let boxes = els
                    .iter()
                    .filter(|e| {
                        e.tag == "rect" && e.attr("fill") == "none" && e.attr("width") == "240"
                    })
                    .count();
                let turns: usize = strip.rows.iter().map(|r| r.turns.len()).sum();
                assert_eq!(boxes, turns, "chain: a box per turn");
                let narrated = c
                    .narration
                    .iter()
                    .filter(|l| l.starts_with("[loop] end of turn"))
                    .count();
                let turnstile: usize = strip
                    .rows
                    .iter()
                    .filter(|r| r.label.starts_with("turnstile"))
                    .map(|r| r.turns.len())
                    .sum();
                assert_eq!(
                    turnstile, narrated,
                    "chain: turnstile's boxes are its narrated turns"
                );
            }
            _ => {
                // Bars: each series' colour on one bar per value it has, plus its glyph.
                for (series, colour) in &entries {
                    let bars = els
                        .iter()
                        .filter(|e| e.tag == "rect" && e.attr("fill").eq_ignore_ascii_case(colour))
                        .count();
                    assert!(bars >= 2, "{name}: {series} has bars");
                }
            }
        }
    }
    let distinct: BTreeSet<&String> = base.values().collect();
    assert_eq!(distinct.len(), base.len(), "a colour per runtime: {base:?}");
}
