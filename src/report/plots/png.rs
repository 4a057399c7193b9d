//! PNG copies of the SVG plots: the SVG document itself rasterised by resvg, so a PNG shows
//! exactly what its SVG does. Text is set in DejaVu Sans, embedded in the binary
//! (`assets/fonts/`, Bitstream Vera licence): resvg is built without its system-fonts feature,
//! so no font of the machine is ever looked up and a fresh CI box draws the same pixels as a
//! laptop.

use super::PlotError;
use resvg::{tiny_skia, usvg};
use std::sync::{Arc, OnceLock};

/// Pixels per SVG unit: a 1,000-unit-wide plot becomes a 2,000-pixel-wide PNG, sharp on
/// high-density screens and in slides.
pub const PNG_SCALE: u32 = 2;

/// The font every PNG's text is set in, whatever family the SVG asks for.
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const FONT_FAMILY: &str = "DejaVu Sans";

/// A font database holding only [`FONT`], built once.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(FONT.to_vec());
            db.set_sans_serif_family(FONT_FAMILY);
            db.set_serif_family(FONT_FAMILY);
            db.set_monospace_family(FONT_FAMILY);
            Arc::new(db)
        })
        .clone()
}

/// Rasterises an SVG document at [`PNG_SCALE`] pixels per unit on its white background and
/// encodes it as PNG. Deterministic: the same SVG gives the same bytes. `file_name` only names
/// the plot in an error.
pub fn to_png(file_name: &str, svg: &str) -> Result<Vec<u8>, PlotError> {
    let fail = |message: String| PlotError {
        file_name: file_name.to_string(),
        message,
    };
    let options = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree =
        usvg::Tree::from_str(svg, &options).map_err(|e| fail(format!("not a valid SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let (width, height) = (size.width() * PNG_SCALE, size.height() * PNG_SCALE);
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| fail(format!("cannot make a {width} x {height} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let scale = PNG_SCALE as f32;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| fail(format!("cannot encode the PNG: {e}")))
}
