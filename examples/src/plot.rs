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
        let (lo, hi) = y_range(values);
        let mut chart = ChartBuilder::on(panel)
            .caption(*title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            // Epochs on an integer axis: whole-number ticks (a float axis labelled them
            // 20.0, 40.0, …).
            .build_cartesian_2d(0..(values.len().max(2) - 1) as u32, lo..hi)?;
        chart.configure_mesh().x_desc("epoch").draw()?;
        let points = || values.iter().enumerate().map(|(i, v)| (i as u32, *v));
        chart.draw_series(LineSeries::new(points(), &BLUE))?;
        // Markers too, so a single epoch still shows.
        chart.draw_series(points().map(|p| Circle::new(p, 2, BLUE.filled())))?;
    }
    root.present()?;
    Ok(())
}

/// The largest magnitude an axis reaches: plotters' tick computation loops forever on a range
/// reaching ∞ (a loss of 1.72e308 padded by 5 % overflowed), and its span must stay finite.
const AXIS_LIMIT: f64 = 1e300;

/// The y-axis range of a panel: from the smallest to the largest finite value, always
/// including 0, both clamped to `±AXIS_LIMIT` (larger values are drawn off the chart), then 5 %
/// of the span added above (so the top stays below 1.1·`AXIS_LIMIT`); `0..1` when there is
/// nothing to span.
fn y_range(values: &[f64]) -> (f64, f64) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = (lo.max(-AXIS_LIMIT), hi.min(AXIS_LIMIT));
    let span = hi - lo;
    if span == 0.0 {
        return (lo, lo + 1.0);
    }
    (lo, hi + 0.05 * span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_y_range_spans_every_finite_value_and_zero() {
        assert_eq!(y_range(&[1.0, 3.0]), (0.0, 3.15));
        // All negative: the top is 0 plus 5 %, above every value (it was −1.05, below −1).
        let (lo, hi) = y_range(&[-1.0, -1.01]);
        assert_eq!(lo, -1.01);
        assert!(hi > 0.0 && hi < 0.06);
        assert_eq!(y_range(&[0.0, 0.0]), (0.0, 1.0));
        assert_eq!(y_range(&[f64::NAN, f64::INFINITY]), (0.0, 1.0));
        // Near f64::MAX: clamped, finite, ordered.
        let (lo, hi) = y_range(&[f64::MAX, 1.0, -f64::MAX]);
        assert!(lo == -AXIS_LIMIT && hi.is_finite() && hi > AXIS_LIMIT);
    }

    /// A loss of f64::MAX made plotters loop forever (the padded top overflowed to ∞).
    #[test]
    fn curves_of_huge_values_are_drawn() {
        let dir = std::env::temp_dir().join(format!("adroit-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("huge.svg");
        curves(
            &path,
            &[("loss", &[f64::MAX, 1.0]), ("neg", &[-1.0, -1.01])],
        )
        .unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Epochs are labelled as whole numbers (a new user's trial: the axis read 20.0, 40.0, …).
    #[test]
    fn epochs_are_labelled_as_whole_numbers() {
        let values: Vec<f64> = (0..121).map(|e| 1.0 / (1.0 + f64::from(e))).collect();
        let mut svg = String::new();
        draw(&mut svg, &[("loss", &values)]).unwrap();
        // plotters writes each label on a line of its own.
        let labels: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(labels.contains(&"40") && labels.contains(&"120"), "{svg}");
        assert!(!labels.contains(&"40.0"), "{svg}");
    }
}
