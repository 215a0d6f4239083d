//! Training curves as an SVG image (plotters).

use crate::Error;
use plotters::prelude::*;
use std::path::Path;

/// Draws one panel per series (`(title, values per epoch)`, epochs numbered from 0 as in the
/// training log), side by side, into an SVG file written atomically (a failure leaves any
/// previous file intact).
///
/// # Errors
/// If the image cannot be drawn or the file written; the message names the file.
pub fn curves(path: &Path, series: &[(&str, &[f64])]) -> Result<(), Error> {
    let mut svg = String::new();
    draw(&mut svg, series).map_err(|e| format!("cannot draw {}: {e}", path.display()))?;
    adroit_nn::io::write_atomically(path, svg.as_bytes())?;
    Ok(())
}

/// Renders the panels into `svg`.
fn draw(svg: &mut String, series: &[(&str, &[f64])]) -> Result<(), Error> {
    let width = 480 * series.len().max(1) as u32;
    let root = SVGBackend::with_string(svg, (width, 360)).into_drawing_area();
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
            .build_cartesian_2d(0f64..(values.len().max(2) - 1) as f64, lo..hi * 1.05)?;
        chart.configure_mesh().x_desc("epoch").draw()?;
        let points = || values.iter().enumerate().map(|(i, v)| (i as f64, *v));
        chart.draw_series(LineSeries::new(points(), &BLUE))?;
        // Markers too, so a single epoch still shows.
        chart.draw_series(points().map(|p| Circle::new(p, 2, BLUE.filled())))?;
    }
    root.present()?;
    Ok(())
}
