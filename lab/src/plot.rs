//! SVG plots in three shapes: lines (a figure against a setting: p99 against CPU share
//! or connections, lag over time), horizontal grouped bars on a logarithmic axis (one
//! figure per case, from nanoseconds to milliseconds side by side), and a turn strip
//! (the turns of a loop, one box per turn).
//!
//! Every plot gives each runtime the same colour ([`Who::color`]): turnstile blue,
//! tokio orange, smol green, asyncio red, asyncio + uvloop purple, and grey for a
//! reference that is no runtime (an article's figure, an ideal). Variants of one
//! runtime (the same runtime, another setting) keep its hue, lighter, with another
//! marker. Each series is drawn once and has one legend entry.

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::runtimes::{Py, Rt};

/// Whose figures a series shows: it picks the series' colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// A runtime of the lab (turnstile, tokio, smol).
    Rust(Rt),
    /// A Python loop (asyncio, asyncio + uvloop).
    Python(Py),
    /// No runtime: an article's figure, an ideal.
    Reference,
}

impl From<Rt> for Who {
    fn from(rt: Rt) -> Who {
        Who::Rust(rt)
    }
}

impl From<Py> for Who {
    fn from(py: Py) -> Who {
        Who::Python(py)
    }
}

impl Who {
    /// The colour of this runtime's first variant, the same in every plot.
    ///
    /// ```
    /// use plotters::style::RGBColor;
    /// use turnstile_lab::plot::Who;
    /// use turnstile_lab::runtimes::Rt;
    ///
    /// assert_eq!(Who::Rust(Rt::Turnstile).color(), RGBColor(31, 119, 180));
    /// assert_ne!(Who::Rust(Rt::Tokio).color(), Who::Rust(Rt::Smol).color());
    /// ```
    pub fn color(self) -> RGBColor {
        match self {
            Who::Rust(Rt::Turnstile) => RGBColor(31, 119, 180),
            Who::Rust(Rt::Tokio) => RGBColor(255, 127, 14),
            Who::Rust(Rt::Smol) => RGBColor(44, 160, 44),
            Who::Python(Py::Asyncio) => RGBColor(214, 39, 40),
            Who::Python(Py::Uvloop) => RGBColor(148, 103, 189),
            Who::Reference => RGBColor(110, 110, 110),
        }
    }

    /// The colour of variant `variant` (0 is [`Who::color`]): the same hue, mixed
    /// with white, lighter for each further variant.
    ///
    /// ```
    /// use plotters::style::RGBColor;
    /// use turnstile_lab::plot::Who;
    /// use turnstile_lab::runtimes::Rt;
    ///
    /// let tokio = Who::Rust(Rt::Tokio);
    /// assert_eq!(tokio.shade(0), tokio.color());
    /// let RGBColor(r, g, b) = tokio.shade(1); // lighter, the same hue
    /// assert!(r >= 255 && g > 127 && b > 14);
    /// ```
    pub fn shade(self, variant: usize) -> RGBColor {
        let RGBColor(r, g, b) = self.color();
        let white = match variant {
            0 => 0.0,
            1 => 0.45,
            _ => 0.65,
        };
        let mix = |c: u8| (c as f64 + (255.0 - c as f64) * white).round() as u8;
        RGBColor(mix(r), mix(g), mix(b))
    }

    /// The name a legend gives this runtime.
    ///
    /// ```
    /// use turnstile_lab::plot::Who;
    /// use turnstile_lab::runtimes::Py;
    ///
    /// assert_eq!(Who::Python(Py::Uvloop).name(), "asyncio + uvloop");
    /// ```
    pub fn name(self) -> String {
        match self {
            Who::Rust(rt) => rt.to_string(),
            Who::Python(py) => py.to_string(),
            Who::Reference => "reference".into(),
        }
    }
}

/// The marker of a variant: a circle, a triangle, a square, a cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// A filled circle (variant 0).
    Circle,
    /// A filled triangle (variant 1).
    Triangle,
    /// A filled square (variant 2).
    Square,
    /// A cross (variant 3 and on).
    Cross,
}

impl Marker {
    /// The marker of variant `variant`.
    ///
    /// ```
    /// use turnstile_lab::plot::Marker;
    ///
    /// assert_eq!(Marker::of(0), Marker::Circle);
    /// assert_eq!(Marker::of(1), Marker::Triangle);
    /// ```
    pub fn of(variant: usize) -> Marker {
        match variant {
            0 => Marker::Circle,
            1 => Marker::Triangle,
            2 => Marker::Square,
            _ => Marker::Cross,
        }
    }
}

/// One series: its legend name, whose it is, which variant of that runtime, and a
/// value per group (bars) or its points (lines).
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// Whose figures: picks the colour.
    pub who: Who,
    /// Which variant of `who` (0, 1, 2...): picks the shade and the marker.
    pub variant: usize,
    /// A value per group, for bars (`None` leaves a gap).
    pub values: Vec<Option<f64>>,
    /// Points `(x, y)`, for lines.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series of bars, variant 0.
    ///
    /// ```
    /// use turnstile_lab::plot::{Series, Who};
    /// use turnstile_lab::runtimes::Rt;
    ///
    /// let s = Series::bars("turnstile", Rt::Turnstile, vec![Some(1.0), None]);
    /// assert_eq!((s.who, s.variant), (Who::Rust(Rt::Turnstile), 0));
    /// ```
    pub fn bars(name: impl Into<String>, who: impl Into<Who>, values: Vec<Option<f64>>) -> Series {
        Series {
            name: name.into(),
            who: who.into(),
            variant: 0,
            values,
            points: Vec::new(),
        }
    }

    /// A line, variant 0.
    ///
    /// ```
    /// use turnstile_lab::plot::Series;
    /// use turnstile_lab::runtimes::Rt;
    ///
    /// let s = Series::line("tokio, spawn_blocking", Rt::Tokio, vec![(0.0, 1.0)]).variant(1);
    /// assert_eq!(s.points.len(), 1);
    /// ```
    pub fn line(name: impl Into<String>, who: impl Into<Who>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            who: who.into(),
            variant: 0,
            values: Vec::new(),
            points,
        }
    }

    /// The same series as variant `variant` of its runtime (see [`Series::line`]).
    pub fn variant(mut self, variant: usize) -> Series {
        self.variant = variant;
        self
    }

    /// The series' colour: its runtime's, in the shade of its variant.
    ///
    /// ```
    /// use turnstile_lab::plot::{Series, Who};
    /// use turnstile_lab::runtimes::Rt;
    ///
    /// let s = Series::line("smol", Rt::Smol, Vec::new()).variant(2);
    /// assert_eq!(s.color(), Who::Rust(Rt::Smol).shade(2));
    /// ```
    pub fn color(&self) -> RGBColor {
        self.who.shade(self.variant)
    }
}

/// A horizontal grouped bar chart.
#[derive(Clone, Debug)]
pub struct Bars {
    /// The chart's caption.
    pub title: String,
    /// The value axis's description.
    pub value_label: String,
    /// Group labels, top to bottom.
    pub groups: Vec<String>,
    /// The series; each group shows one bar per series.
    pub series: Vec<Series>,
    /// Formats a value for the axis and the bar ends.
    pub format: fn(f64) -> String,
}

/// A chart of lines: a figure against a setting.
#[derive(Clone, Debug)]
pub struct Lines {
    /// The chart's caption.
    pub title: String,
    /// The x axis's description.
    pub x_label: String,
    /// The y axis's description.
    pub y_label: String,
    /// A logarithmic x axis.
    pub x_log: bool,
    /// A logarithmic y axis.
    pub y_log: bool,
    /// The lines, each drawn once.
    pub series: Vec<Series>,
    /// Formats an x value.
    pub x_format: fn(f64) -> String,
    /// Formats a y value.
    pub y_format: fn(f64) -> String,
}

/// Small charts of lines side by side (one per case), one legend for all.
#[derive(Clone, Debug)]
pub struct Panels {
    /// The figure's caption.
    pub title: String,
    /// The panels, left to right and top to bottom; each is titled by its `title`.
    pub panels: Vec<Lines>,
    /// Panels per row.
    pub columns: usize,
}

/// One row of a turn strip: a box per turn of one run.
#[derive(Clone, Debug)]
pub struct StripRow {
    /// The row's label: which runtime ran what.
    pub label: String,
    /// Whose loop: picks the colour.
    pub who: Who,
    /// Which variant of `who`.
    pub variant: usize,
    /// One entry per turn: what the loop did in it (a line or two, split at `; `).
    pub turns: Vec<String>,
}

/// A turn strip: the turns of a few runs, one box per turn, left to right.
#[derive(Clone, Debug)]
pub struct Strip {
    /// The chart's caption.
    pub title: String,
    /// The rows, top to bottom.
    pub rows: Vec<StripRow>,
    /// A line under the strip (what is not drawn, and why).
    pub footnote: String,
}

/// Writes a one-line SVG that says the chart has nothing to show.
fn empty(path: &Path, title: &str) -> anyhow::Result<()> {
    // A run of some runtimes only (`--runtime asyncio`) can leave a chart empty:
    // say so in the file rather than fail the run.
    let root = SVGBackend::new(path, (960, 80)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    root.draw(&Text::new(
        format!("{title}: nothing measured for this chart"),
        (20, 35),
        ("sans-serif", 16).into_font(),
    ))
    .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// The range of `values` with room around it, for a linear or logarithmic axis.
fn span(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let values: Vec<f64> = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        return None;
    }
    Some(if log {
        (lo / 1.6, hi * 1.6)
    } else {
        let pad = ((hi - lo) * 0.06).max(hi.abs() * 0.05).max(1e-9);
        ((lo - pad).min(0.0_f64.max(lo - pad)), hi + pad)
    })
}

/// Draws `lines` as an SVG file at `path`.
///
/// ```
/// use turnstile_lab::plot::{self, Lines, Series};
/// use turnstile_lab::runtimes::Rt;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("p99.svg");
/// plot::lines(
///     &path,
///     &Lines {
///         title: "p99 against load".into(),
///         x_label: "load".into(),
///         y_label: "p99 (ms)".into(),
///         x_log: false,
///         y_log: true,
///         series: vec![Series::line("turnstile", Rt::Turnstile, vec![(1.0, 2.0), (2.0, 8.0)])],
///         x_format: |x| format!("{x}"),
///         y_format: |y| format!("{y}"),
///     },
/// )?;
/// assert!(std::fs::read_to_string(&path)?.contains("<polyline"));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn lines(path: &Path, lines: &Lines) -> anyhow::Result<()> {
    if lines.series.iter().all(|s| s.points.is_empty()) {
        return empty(path, &lines.title);
    }
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    draw_lines(&root, lines, true, 18)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// Draws `panels` as an SVG file at `path`: the panels in a grid, one legend (in the
/// first panel) naming each series once.
///
/// ```
/// use turnstile_lab::plot::{self, Lines, Panels, Series};
/// use turnstile_lab::runtimes::Rt;
///
/// let panel = |title: &str| Lines {
///     title: title.into(),
///     x_label: "time (ms)".into(),
///     y_label: "lag (ms)".into(),
///     x_log: false,
///     y_log: false,
///     series: vec![Series::line("smol", Rt::Smol, vec![(0.0, 0.0), (2.0, 5.0)])],
///     x_format: |x| format!("{x:.0}"),
///     y_format: |y| format!("{y:.0}"),
/// };
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("lag.svg");
/// let figure = Panels { title: "lag".into(), panels: vec![panel("a"), panel("b")], columns: 2 };
/// plot::panels(&path, &figure)?;
/// let svg = std::fs::read_to_string(&path)?;
/// // smol's line, once in each panel
/// assert_eq!(svg.matches(r##"stroke="#2CA02C" stroke-width="2" points"##).count(), 2);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn panels(path: &Path, panels: &Panels) -> anyhow::Result<()> {
    if panels
        .panels
        .iter()
        .all(|p| p.series.iter().all(|s| s.points.is_empty()))
    {
        return empty(path, &panels.title);
    }
    let columns = panels.columns.max(1);
    let rows = panels.panels.len().div_ceil(columns).max(1);
    let root = SVGBackend::new(path, (1100, 60 + rows as u32 * 330)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let root = root
        .titled(&panels.title, ("sans-serif", 20))
        .map_err(plot_error)?;
    let areas = root.split_evenly((rows, columns));
    for (i, (panel, area)) in panels.panels.iter().zip(areas.iter()).enumerate() {
        draw_lines(area, panel, i == 0, 14)?;
    }
    root.present().map_err(plot_error)?;
    Ok(())
}

fn draw_lines(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    lines: &Lines,
    legend: bool,
    caption: u32,
) -> anyhow::Result<()> {
    let points = || lines.series.iter().flat_map(|s| s.points.iter());
    let Some((x0, x1)) = span(points().map(|p| p.0), lines.x_log) else {
        area.draw(&Text::new(
            format!("{}: nothing measured", lines.title),
            (20, 30),
            ("sans-serif", 13).into_font(),
        ))
        .map_err(plot_error)?;
        return Ok(());
    };
    let (y0, y1) = span(points().map(|p| p.1), lines.y_log).unwrap_or((0.0, 1.0));
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(&lines.title, ("sans-serif", caption))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70);
    let (xf, yf) = (lines.x_format, lines.y_format);
    // One body for the four axis kinds: a macro, since each is another type.
    macro_rules! body {
        ($x:expr, $y:expr) => {{
            let mut chart = builder.build_cartesian_2d($x, $y).map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc(lines.x_label.clone())
                .y_desc(lines.y_label.clone())
                .x_labels(8)
                .y_labels(8)
                .x_label_formatter(&|v| xf(*v))
                .y_label_formatter(&|v| yf(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_error)?;
            for s in &lines.series {
                let color = s.color();
                let marker = Marker::of(s.variant);
                let keep =
                    |&(x, y): &(f64, f64)| (!lines.x_log || x > 0.0) && (!lines.y_log || y > 0.0);
                let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(keep).collect();
                let drawn = chart
                    .draw_series(std::iter::once(PathElement::new(
                        pts.clone(),
                        color.stroke_width(2),
                    )))
                    .map_err(plot_error)?;
                if legend {
                    let drawn = drawn.label(s.name.clone());
                    let bar = move |(x, y): (i32, i32)| {
                        EmptyElement::at((x, y))
                            + Rectangle::new([(0, -2), (16, 2)], color.filled())
                    };
                    match marker {
                        Marker::Circle => {
                            drawn.legend(move |p| bar(p) + Circle::new((8, 0), 4, color.filled()))
                        }
                        Marker::Triangle => drawn.legend(move |p| {
                            bar(p) + TriangleMarker::new((8, 0), 5, color.filled())
                        }),
                        Marker::Square => drawn.legend(move |p| {
                            bar(p) + Rectangle::new([(4, -4), (12, 4)], color.filled())
                        }),
                        Marker::Cross => drawn
                            .legend(move |p| bar(p) + Cross::new((8, 0), 4, color.stroke_width(2))),
                    };
                }
                let pts = if pts.len() < 40 { pts } else { Vec::new() };
                match marker {
                    Marker::Circle => chart
                        .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                        .map(|_| ()),
                    Marker::Triangle => chart
                        .draw_series(
                            pts.iter()
                                .map(|&p| TriangleMarker::new(p, 5, color.filled())),
                        )
                        .map(|_| ()),
                    Marker::Square => chart
                        .draw_series(pts.iter().map(|&p| {
                            EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], color.filled())
                        }))
                        .map(|_| ()),
                    Marker::Cross => chart
                        .draw_series(pts.iter().map(|&p| Cross::new(p, 4, color.stroke_width(2))))
                        .map(|_| ()),
                }
                .map_err(plot_error)?;
            }
            if legend {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .draw()
                    .map_err(plot_error)?;
            }
        }};
    }
    match (lines.x_log, lines.y_log) {
        (false, false) => body!(x0..x1, y0..y1),
        (true, false) => body!((x0..x1).log_scale(), y0..y1),
        (false, true) => body!(x0..x1, (y0..y1).log_scale()),
        (true, true) => body!((x0..x1).log_scale(), (y0..y1).log_scale()),
    }
    Ok(())
}

/// Draws `bars` as an SVG file at `path`.
///
/// ```
/// use turnstile_lab::plot::{self, Bars, Series};
/// use turnstile_lab::runtimes::Rt;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("cost.svg");
/// let bars = Bars {
///     title: "cost".into(),
///     value_label: "ns".into(),
///     groups: vec!["yield".into()],
///     series: vec![Series::bars("tokio", Rt::Tokio, vec![Some(500.0)])],
///     format: |v| format!("{v:.0} ns"),
/// };
/// plot::horizontal_bars(&path, &bars)?;
/// assert!(std::fs::read_to_string(&path)?.contains("#FF7F0E")); // tokio's orange
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn horizontal_bars(path: &Path, bars: &Bars) -> anyhow::Result<()> {
    let per_group = bars.series.len().max(1) + 1; // a blank slot between groups
    let slots = bars.groups.len() * per_group;
    let values: Vec<f64> = bars
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .filter(|v| *v > 0.0)
        .collect();
    if slots == 0 || values.is_empty() {
        return empty(path, &bars.title);
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min) / 2.0;
    let hi = values.iter().copied().fold(0.0, f64::max) * 6.0;
    let label_width = bars
        .groups
        .iter()
        .map(|g| g.chars().count())
        .max()
        .unwrap_or(8) as u32
        * 7
        + 20;
    let height = 110 + slots as u32 * 16;

    let root = SVGBackend::new(path, (960, height)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&bars.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d((lo..hi).log_scale(), (0..slots).into_segmented())
        .map_err(plot_error)?;

    let groups = bars.groups.clone();
    let series_count = bars.series.len().max(1);
    let label_slot = (series_count - 1) / 2;
    let format = bars.format;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(slots)
        .x_labels(8)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(k) if *k < slots => {
                let from_top = slots - 1 - k;
                if from_top % per_group == label_slot {
                    groups[from_top / per_group].clone()
                } else {
                    String::new()
                }
            }
            _ => String::new(),
        })
        .x_desc(format!("{} (log scale)", bars.value_label))
        .x_label_formatter(&|v| format(*v))
        .draw()
        .map_err(plot_error)?;

    for (j, series) in bars.series.iter().enumerate() {
        let color = series.color();
        let slot_of = move |g: usize| slots - 1 - (g * per_group + j);
        let rects = series.values.iter().enumerate().filter_map(move |(g, v)| {
            let v = (*v)?;
            let slot = slot_of(g);
            let mut bar = Rectangle::new(
                [
                    (lo, SegmentValue::Exact(slot)),
                    (v.max(lo), SegmentValue::Exact(slot + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(1, 1, 0, 0);
            Some(bar)
        });
        chart
            .draw_series(rects)
            .map_err(plot_error)?
            .label(series.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        let labels = series.values.iter().enumerate().filter_map(move |(g, v)| {
            let v = (*v)?;
            Some(Text::new(
                format!(" {}", format(v)),
                (v.max(lo), SegmentValue::CenterOf(slot_of(g))),
                TextStyle::from(("sans-serif", 11).into_font())
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
        });
        chart.draw_series(labels).map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// Width of one turn's box in a strip.
const TURN_W: i32 = 240;
/// Height of one row of a strip.
const ROW_H: i32 = 78;

/// Draws `strip` as an SVG file at `path`: a row per run, a box per turn holding what
/// the loop did in it, and a legend naming each runtime once.
///
/// ```
/// use turnstile_lab::plot::{self, Strip, StripRow, Who};
/// use turnstile_lab::runtimes::Rt;
///
/// let strip = Strip {
///     title: "turns".into(),
///     rows: vec![StripRow {
///         label: "turnstile: a sleep".into(),
///         who: Who::Rust(Rt::Turnstile),
///         variant: 0,
///         turns: vec!["polled 1 task (1 yielded)".into(), "parked; 1 timer fired".into()],
///     }],
///     footnote: String::new(),
/// };
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("turns.svg");
/// plot::turn_strip(&path, &strip)?;
/// assert!(std::fs::read_to_string(&path)?.contains("turn 2"));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn turn_strip(path: &Path, strip: &Strip) -> anyhow::Result<()> {
    if strip.rows.iter().all(|r| r.turns.is_empty()) {
        return empty(path, &strip.title);
    }
    let label_w = strip
        .rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(10) as i32
        * 6
        + 24;
    let most = strip.rows.iter().map(|r| r.turns.len()).max().unwrap_or(1) as i32;
    let mut whos: Vec<Who> = Vec::new();
    for r in &strip.rows {
        if !whos.contains(&r.who) {
            whos.push(r.who);
        }
    }
    let top = 50;
    let width = (label_w + most * (TURN_W + 8) + 20).max(700);
    let height = top + strip.rows.len() as i32 * (ROW_H + 10) + 40 + whos.len() as i32 * 20 + 20;
    let root = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    root.draw(&Text::new(
        strip.title.clone(),
        (12, 14),
        ("sans-serif", 18).into_font(),
    ))
    .map_err(plot_error)?;
    let small = ("sans-serif", 12).into_font();
    for (i, row) in strip.rows.iter().enumerate() {
        let y = top + i as i32 * (ROW_H + 10);
        root.draw(&Text::new(
            row.label.clone(),
            (12, y + ROW_H / 2),
            TextStyle::from(small.clone()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(plot_error)?;
        let color = row.who.shade(row.variant);
        for (k, turn) in row.turns.iter().enumerate() {
            let x = label_w + k as i32 * (TURN_W + 8);
            root.draw(&Rectangle::new(
                [(x, y), (x + TURN_W, y + ROW_H)],
                color.mix(0.25).filled(),
            ))
            .map_err(plot_error)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + TURN_W, y + ROW_H)],
                color.stroke_width(2),
            ))
            .map_err(plot_error)?;
            let mut lines = vec![format!("turn {}", k + 1)];
            lines.extend(turn.split("; ").map(str::to_string));
            for (l, text) in lines.iter().take(5).enumerate() {
                root.draw(&Text::new(
                    text.clone(),
                    (x + 6, y + 5 + l as i32 * 14),
                    TextStyle::from(("sans-serif", if l == 0 { 12 } else { 11 }).into_font())
                        .pos(Pos::new(HPos::Left, VPos::Top)),
                ))
                .map_err(plot_error)?;
            }
        }
    }
    let mut y = top + strip.rows.len() as i32 * (ROW_H + 10) + 8;
    root.draw(&Text::new(
        strip.footnote.clone(),
        (12, y),
        TextStyle::from(small.clone()).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(plot_error)?;
    y += 26;
    for who in whos {
        root.draw(&Rectangle::new(
            [(12, y), (28, y + 12)],
            who.color().filled(),
        ))
        .map_err(plot_error)?;
        root.draw(&Text::new(
            who.name(),
            (36, y + 6),
            TextStyle::from(small.clone()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(plot_error)?;
        y += 20;
    }
    root.present().map_err(plot_error)?;
    Ok(())
}

fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotters: {e:?}")
}
