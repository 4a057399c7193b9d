//! Text fields in the CSV files Surge writes (`timeseries.csv`, `sweep.csv`), made safe to open
//! in a spreadsheet and undone exactly on reading.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and one that
//! starts with a tab or CR may be read as one after trimming (CSV injection). So every text
//! field (a variant's or a service's name, a metric name; never a number, which the writers
//! format themselves) goes through [`neutralise`], which puts a `'` in front of such a field:
//! spreadsheets show a leading `'` as "text", not as part of the value (OWASP's advice). A
//! field that already starts with `'` gets one more, so [`restore`] can always drop exactly
//! one and get the name back, whatever it was. Quoting (commas, quotes, CR, LF) is the CSV
//! writer's job (the `csv` crate); this layer only decides the text of a field.

use std::borrow::Cow;

/// The characters that make a spreadsheet treat a cell as a formula, and the escape itself.
const NEEDS_PREFIX: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// The text to write for `field`: `field` itself, or `'` followed by it when it starts with
/// `=`, `+`, `-`, `@`, a tab, a CR or a `'`. [`restore`] undoes it.
pub fn neutralise(field: &str) -> Cow<'_, str> {
    if field.starts_with(NEEDS_PREFIX) {
        Cow::Owned(format!("'{field}"))
    } else {
        Cow::Borrowed(field)
    }
}

/// The field [`neutralise`] was given, from what it wrote: one leading `'` dropped.
pub fn restore(written: &str) -> &str {
    written.strip_prefix('\'').unwrap_or(written)
}

#[cfg(test)]
mod tests {
    use super::{neutralise, restore};

    #[test]
    fn formula_prefixes_get_a_quote_and_restore_undoes_it() {
        for (name, written) in [
            ("api", "api"),
            ("=1+2", "'=1+2"),
            ("+cmd", "'+cmd"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'quoted", "''quoted"),
            ("''", "'''"),
            ("a=b", "a=b"),
            ("", ""),
            ("two\nlines", "two\nlines"),
        ] {
            assert_eq!(neutralise(name), written, "{name:?}");
            assert_eq!(restore(&neutralise(name)), name, "{name:?}");
        }
    }

    #[test]
    fn nothing_written_starts_with_a_formula_character() {
        // Every one-character start a name can have: what is written never opens a formula.
        for c in (0u8..128).map(char::from).chain(['é', '\u{FEFF}']) {
            let name = format!("{c}rest");
            let written = neutralise(&name);
            assert!(
                !written.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{name:?} -> {written:?}"
            );
            assert_eq!(restore(&written), name);
        }
    }
}
