//! SVG plots: one chart shape, horizontal grouped bars on a logarithmic axis, which fits
//! every experiment (figures from nanoseconds to milliseconds side by side).

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One series of bars: one value per group (`None` leaves a gap).
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// A value per group.
    pub values: Vec<Option<f64>>,
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

const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(127, 127, 127),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Draws `bars` as an SVG file at `path`.
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
        // A run of some runtimes only (`--runtime asyncio`) can leave a chart empty:
        // say so in the file rather than fail the run.
        let root = SVGBackend::new(path, (960, 80)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        root.draw(&Text::new(
            format!("{}: nothing measured for this chart", bars.title),
            (20, 35),
            ("sans-serif", 16).into_font(),
        ))
        .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
        return Ok(());
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
        let color = COLORS[j % COLORS.len()];
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

fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotters: {e:?}")
}
