//! Reports: what an experiment measured, as serde data, terminal tables, markdown,
//! JSON and SVG, and the number formats they share.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use comfy_table::{presets, CellAlignment, Table};
use serde::Serialize;

use crate::machine::Machine;

/// A table with a caption, kept as text so that it renders both on the terminal and
/// as markdown.
#[derive(Clone, Debug, Default)]
pub struct Section {
    /// One line above the table.
    pub caption: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
    /// Columns from this index on are numbers, aligned right.
    pub numbers_from: usize,
}

impl Section {
    /// A section with a caption and a header, no rows yet.
    pub fn new(caption: impl Into<String>, header: &[&str], numbers_from: usize) -> Section {
        Section {
            caption: caption.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            numbers_from,
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table in a comfy-table preset.
    pub fn table(&self, preset: &str) -> Table {
        let mut table = Table::new();
        table.load_preset(preset).set_header(self.header.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        for i in self.numbers_from..self.header.len() {
            if let Some(column) = table.column_mut(i) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        table
    }
}

/// What every experiment's report can do.
pub trait Report {
    /// The file stem of its outputs and its subcommand, e.g. `yield-cost`.
    fn name(&self) -> &'static str;
    /// A heading.
    fn title(&self) -> String;
    /// The claim it tests, with the article's own numbers and its title, then what
    /// is measured here: one or two sentences.
    fn question(&self) -> String;
    /// Lines shown before the tables, as they are (a narrated trace).
    fn preface(&self) -> Vec<String> {
        Vec::new()
    }
    /// The tables.
    fn sections(&self) -> Vec<Section>;
    /// What the figures say, computed from them.
    fn notes(&self) -> Vec<String>;
    /// Draws the report's plot as SVG at `path`.
    fn plot(&self, path: &Path) -> anyhow::Result<()>;
}

/// What a `-` in a table means, said once under any table that has one.
pub const DASH: &str = "(-: that runtime does not count this figure, or it was not measured there)";

/// Whether any of `sections` has a `-` cell, so that [`DASH`] belongs under them.
pub fn has_dash(sections: &[Section]) -> bool {
    sections
        .iter()
        .flat_map(|s| s.rows.iter().flatten())
        .any(|cell| cell == "-" || cell.contains(" / -") || cell.starts_with("- / "))
}

/// The line that says how long an experiment took and which files it wrote.
pub fn wrote(name: &str, took: std::time::Duration, files: &[PathBuf]) -> String {
    format!(
        "({name} took {:.1} s; wrote {})",
        took.as_secs_f64(),
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The report for the terminal: preface, tables, notes.
pub fn to_terminal(report: &dyn Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n=== {} ===", report.title());
    let _ = writeln!(out, "{}\n", report.question());
    for line in report.preface() {
        let _ = writeln!(out, "{line}");
    }
    if !report.preface().is_empty() {
        out.push('\n');
    }
    let sections = report.sections();
    for section in &sections {
        let _ = writeln!(out, "{}", section.caption);
        let _ = writeln!(out, "{}\n", section.table(presets::UTF8_FULL_CONDENSED));
    }
    if has_dash(&sections) {
        let _ = writeln!(out, "{DASH}\n");
    }
    for note in report.notes() {
        let _ = writeln!(out, "* {note}");
    }
    out
}

/// The parts of a report as markdown, each on its own: the question, the preface (a
/// text block), the tables (with what `-` means), the notes, and the plot's image
/// (`svg` is its path as the page will see it). The book includes them one by one.
pub fn markdown_parts(report: &dyn Report, svg: Option<&str>) -> Vec<(&'static str, String)> {
    let mut parts = vec![("question", format!("{}\n", report.question()))];
    let preface = report.preface();
    if !preface.is_empty() {
        let mut text = String::from("```text\n");
        for line in preface {
            let _ = writeln!(text, "{line}");
        }
        text.push_str("```\n");
        parts.push(("preface", text));
    }
    let sections = report.sections();
    let mut tables = String::new();
    for section in &sections {
        let _ = writeln!(tables, "{}\n", section.caption);
        let _ = writeln!(tables, "{}\n", section.table(presets::ASCII_MARKDOWN));
    }
    if has_dash(&sections) {
        let _ = writeln!(tables, "{DASH}\n");
    }
    parts.push(("tables", tables));
    let mut notes = String::new();
    for note in report.notes() {
        let _ = writeln!(notes, "- {note}");
    }
    parts.push(("notes", notes));
    if let Some(svg) = svg {
        parts.push(("plot", format!("![{}]({svg})\n", report.title())));
    }
    parts
}

/// `text` with `&`, `<`, `>` and `"` escaped for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The report as an HTML section: every table, the notes, and its plot (`svg`, a path
/// relative to the page).
pub fn to_html(report: &dyn Report, svg: Option<&str>) -> String {
    let mut out = String::new();
    let name = report.name();
    let _ = writeln!(
        out,
        "<section id=\"{name}\">\n<h2>{}</h2>\n<p>{}</p>",
        html_escape(&report.title()),
        html_escape(&report.question())
    );
    let preface = report.preface();
    if !preface.is_empty() {
        let _ = writeln!(out, "<pre>{}</pre>", html_escape(&preface.join("\n")));
    }
    let sections = report.sections();
    for section in &sections {
        let _ = writeln!(
            out,
            "<table>\n<caption>{}</caption>",
            html_escape(&section.caption)
        );
        out.push_str("<tr>");
        for h in &section.header {
            let _ = write!(out, "<th>{}</th>", html_escape(h));
        }
        out.push_str("</tr>\n");
        for row in &section.rows {
            out.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let class = if i >= section.numbers_from {
                    " class=\"n\""
                } else {
                    ""
                };
                let _ = write!(out, "<td{class}>{}</td>", html_escape(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    if has_dash(&sections) {
        let _ = writeln!(out, "<p>{}</p>", html_escape(DASH));
    }
    out.push_str("<ul>\n");
    for note in report.notes() {
        let _ = writeln!(out, "<li>{}</li>", html_escape(&note));
    }
    out.push_str("</ul>\n");
    if let Some(svg) = svg {
        let _ = writeln!(
            out,
            "<p><img src=\"{}\" alt=\"{}\"></p>",
            html_escape(svg),
            html_escape(&report.title())
        );
    }
    out.push_str("</section>\n");
    out
}

/// The report as a markdown section, with its plot if `svg` names one.
pub fn to_markdown(report: &dyn Report, svg: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", report.title());
    let _ = writeln!(out, "{}\n", report.question());
    let preface = report.preface();
    if !preface.is_empty() {
        out.push_str("```text\n");
        for line in preface {
            let _ = writeln!(out, "{line}");
        }
        out.push_str("```\n\n");
    }
    let sections = report.sections();
    for section in &sections {
        let _ = writeln!(out, "{}\n", section.caption);
        let _ = writeln!(out, "{}\n", section.table(presets::ASCII_MARKDOWN));
    }
    if has_dash(&sections) {
        let _ = writeln!(out, "{DASH}\n");
    }
    for note in report.notes() {
        let _ = writeln!(out, "- {note}");
    }
    if let Some(svg) = svg {
        let _ = writeln!(out, "\n![{}]({svg})", report.title());
    }
    out
}

/// Writes `<name>.json`, `<name>.svg` and `<name>.md` into `dir` and returns their paths.
pub fn write_files<R: Report + Serialize>(
    report: &R,
    machine: &Machine,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = report.name();
    let json = dir.join(format!("{name}.json"));
    fs::write(&json, serde_json::to_string_pretty(report)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let svg = dir.join(format!("{name}.svg"));
    report
        .plot(&svg)
        .with_context(|| format!("plotting {}", svg.display()))?;
    let md = dir.join(format!("{name}.md"));
    let text = format!(
        "# turnstile-lab: {name}\n\nMachine: {machine}.\n\n{}",
        to_markdown(report, Some(&format!("{name}.svg")))
    );
    fs::write(&md, text).with_context(|| format!("writing {}", md.display()))?;
    Ok(vec![json, svg, md])
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count, or `-` where the runtime keeps none.
pub fn opt(n: Option<u64>) -> String {
    n.map_or_else(|| "-".into(), thousands)
}

/// A duration in nanoseconds, in the unit that reads best.
pub fn duration_ns(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.2} ns")
    } else if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// A size in bytes, in the unit that reads best.
pub fn bytes(b: f64) -> String {
    if b < 1024.0 {
        format!("{b:.0} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    }
}

/// The median of `samples` (0 for none).
pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_well() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(opt(None), "-");
        assert_eq!(duration_ns(1.234), "1.23 ns");
        assert_eq!(duration_ns(1_070_000.0), "1.07 ms");
        assert_eq!(bytes(2048.0), "2.0 KiB");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
