//! Saving a window capture as PNG (`kctx FILE --screenshot OUT.png`).

use anyhow::Context as _;
use std::path::Path;

/// Writes `image` to `path` as an RGBA PNG.
pub fn save_png(image: &egui::ColorImage, path: &Path) -> anyhow::Result<()> {
    let [w, h] = image.size;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buffer = image::RgbaImage::from_raw(w as u32, h as u32, bytes)
        .context("screenshot size does not match its pixels")?;
    buffer
        .save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// True when an image has more than one colour (a blank window has one).
pub fn is_blank(image: &image::RgbaImage) -> bool {
    let mut pixels = image.pixels();
    let Some(first) = pixels.next() else {
        return true;
    };
    pixels.all(|p| p == first)
}
