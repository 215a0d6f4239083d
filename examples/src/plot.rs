//! Training curves as an SVG image (plotters).

use crate::Error;
use plotters::prelude::*;
use std::path::Path;

/// Draws one panel per series (`(title, values per epoch)`), side by side, into an SVG file.
///
/// # Errors
/// If the file cannot be written.
pub fn curves(path: &Path, series: &[(&str, &[f64])]) -> Result<(), Error> {
    let width = 480 * series.len().max(1) as u32;
    let root = SVGBackend::new(path, (width, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, series.len().max(1)));
    for (panel, (title, values)) in panels.iter().zip(series) {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let lo = finite
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(0.0);
        let hi = finite
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            .max(lo + 1e-9);
        let mut chart = ChartBuilder::on(panel)
            .caption(*title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..values.len().max(1) as f64, lo..hi * 1.05)?;
        chart.configure_mesh().x_desc("epoch").draw()?;
        chart.draw_series(LineSeries::new(
            values.iter().enumerate().map(|(i, v)| (i as f64 + 1.0, *v)),
            &BLUE,
        ))?;
    }
    root.present()?;
    Ok(())
}
