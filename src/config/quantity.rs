//! Quantities with units as they are written in files: durations ("50ms", "2.5s", "1h") and
//! sizes ("512MiB", "64KB", or a plain number of bytes).

use crate::kernel::SimDuration;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A duration read from a file. Written as a string with a unit: ns, us, ms, s, m, h, d.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub SimDuration);

const DURATION_EXPECTED: &str = "a duration with a unit, like \"50ms\", \"2.5s\", \"10m\", \"1h\" or \"2 minutes\" (units: ns, us, ms, s, m, h, d, or their words)";

impl Duration {
    /// Parses "2.5s", "1h30m", "100ms"; compound forms are summed.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err(format!(
                "expected {DURATION_EXPECTED}, found an empty string"
            ));
        }
        let bad = || format!("expected {DURATION_EXPECTED}, found \"{text}\"");
        let mut total = 0.0_f64;
        let mut rest = s;
        while !rest.is_empty() {
            let num_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E'))
                .ok_or_else(|| format!("\"{text}\" has no unit; expected {DURATION_EXPECTED}"))?;
            // "e" may start an exponent only when followed by a digit; otherwise it is no unit
            // we know, which the unit match below reports.
            let (num, after) = rest.split_at(num_end);
            let value: f64 = num.parse().map_err(|_| bad())?;
            let unit_end = after
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(after.len());
            let (unit, next) = after.split_at(unit_end);
            // Short units and their words, singular or plural ("2 min" and "2 minutes" alike).
            let scale = match unit.trim() {
                "ns" | "nanosecond" | "nanoseconds" => 1e-9,
                "us" | "µs" | "microsecond" | "microseconds" => 1e-6,
                "ms" | "millisecond" | "milliseconds" => 1e-3,
                "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
                "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
                "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
                "d" | "day" | "days" => 86400.0,
                _ => return Err(bad()),
            };
            total += value * scale;
            rest = next;
        }
        if !total.is_finite() {
            return Err(bad());
        }
        Ok(Duration(SimDuration::from_secs_f64(total)))
    }

    /// In seconds.
    pub fn secs(self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the bare number {v}; expected {DURATION_EXPECTED}. Bare numbers are refused because their unit would be a guess"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the bare number {v}; expected {DURATION_EXPECTED}. Bare numbers are refused because their unit would be a guess"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// What [`Duration::parse`] accepts, as a JSON Schema `pattern` (ECMA-262, also valid for Rust's
/// `regex`): one or more number-unit pairs, spaces allowed around and between them. A number is
/// what Rust's `f64` parser takes from digits, `.` and an unsigned exponent (no sign: a negative
/// duration is refused). The unit test `the_duration_pattern_agrees_with_the_parser` holds the
/// two together.
pub const DURATION_PATTERN: &str = r"^\s*(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][0-9]+)?\s*(?:nanoseconds?|microseconds?|milliseconds?|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|ns|us|µs|ms|s|m|h|d)\s*)+$";

/// A string with a unit; bare numbers are refused by the parser, so the schema has no `number`.
impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Duration").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: a number with a unit (ns, us, ms, s, m, h, d; also µs, sec, min, hr and the words: seconds, minutes, hours, days, singular or plural), or several summed, e.g. \"250ms\", \"2.5s\", \"5m\", \"1h30m\". A bare number is refused: its unit would be a guess.",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["250ms", "5m", "1h30m"]
        })
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A size in bytes: a plain number, or a string with a unit (B, KB, MB, GB, KiB, MiB, GiB).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Size(pub f64);

const SIZE_EXPECTED: &str = "a size: a number of bytes or a string like \"512MiB\", \"64KB\" (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB; Kubernetes' Ki, Mi, Gi, Ti too)";

impl Size {
    /// Parses "512MiB", "1.5GB", "100".
    pub fn parse(text: &str) -> Result<Size, String> {
        let s = text.trim();
        let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let value: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("expected {SIZE_EXPECTED}, found \"{text}\""))?;
        let scale = match unit.trim() {
            "" | "B" => 1.0,
            "KB" | "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            "KiB" | "Ki" => 1024.0,
            "MiB" | "Mi" => 1024.0 * 1024.0,
            "GiB" | "Gi" => 1024.0 * 1024.0 * 1024.0,
            "TiB" | "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return Err(format!("expected {SIZE_EXPECTED}, found \"{text}\"")),
        };
        Ok(Size(value * scale))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(SIZE_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                Size::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                Ok(Size(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Size, E> {
                Ok(Size(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// What [`Size::parse`] accepts in a string, as a JSON Schema `pattern`: a number (optionally
/// signed, no exponent: an `e` would start the unit) and an optional unit. Held to the parser by
/// the unit test `the_size_pattern_agrees_with_the_parser`.
pub const SIZE_PATTERN: &str = r"^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?:B|KB|kB|MB|GB|TB|KiB|Ki|MiB|Mi|GiB|Gi|TiB|Ti)?\s*$";

/// A number of bytes, or a string with a unit (the pattern applies to strings only).
impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Size").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size in bytes: a number, or a string with a unit (B, KB, MB, GB, TB; KiB, MiB, GiB, TiB; Kubernetes' Ki, Mi, Gi, Ti), e.g. \"512MiB\" or \"256Mi\".",
            "type": ["number", "string"],
            "pattern": SIZE_PATTERN,
            "examples": ["512MiB", "2MiB", "256Mi"]
        })
    }
}

/// A value a distribution can be over: durations (seconds) or sizes (bytes).
pub trait Quantity: for<'de> Deserialize<'de> + JsonSchema + Copy + fmt::Debug {
    /// The value in base units.
    fn base(self) -> f64;
    /// Parses the string shorthand for a constant.
    fn parse_str(s: &str) -> Result<Self, String>;
}

impl Quantity for Duration {
    fn base(self) -> f64 {
        self.secs()
    }
    fn parse_str(s: &str) -> Result<Self, String> {
        Duration::parse(s)
    }
}

impl Quantity for Size {
    fn base(self) -> f64 {
        self.0
    }
    fn parse_str(s: &str) -> Result<Self, String> {
        Size::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> f64 {
        Duration::parse(s).unwrap().secs()
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(secs("50ms"), 0.05);
        assert_eq!(secs("2.5s"), 2.5);
        assert_eq!(secs("1h"), 3600.0);
        assert_eq!(secs("1h30m"), 5400.0);
        assert_eq!(secs("10us"), 1e-5);
        assert_eq!(secs("3d"), 259200.0);
        assert_eq!(secs("0s"), 0.0);
        assert_eq!(
            Duration::parse("5851800s").unwrap().0.as_nanos(),
            5_851_800_000_000_000
        );
    }

    #[test]
    fn durations_without_units_are_refused() {
        for bad in ["50", "", "fast", "5 parsecs", "1.2.3s", "ms"] {
            let e = Duration::parse(bad).unwrap_err();
            assert!(e.contains("expected a duration"), "{bad}: {e}");
        }
        let e = serde_json::from_str::<Duration>("5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bare number 5"), "{e}");
    }

    /// Whether `value` validates against `T`'s JSON Schema.
    fn schema_accepts<T: JsonSchema>(value: serde_json::Value) -> bool {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
        jsonschema::draft202012::new(&schema)
            .expect("the schema compiles")
            .is_valid(&value)
    }

    #[test]
    fn the_duration_pattern_agrees_with_the_parser() {
        let both_accept = [
            "50ms",
            "2.5s",
            "1h30m",
            "1h 30m",
            " 5s ",
            "5 s",
            "1e3ms",
            "1E3ms",
            ".5s",
            "5.s",
            "10us",
            "10µs",
            "10ns",
            "2sec",
            "3min",
            "3m",
            "3d",
            "0s",
            "1d2h3m4s5ms",
            "2 min",
            "2 minutes",
            "1 minute",
            "1 hour 30 minutes",
            "90 seconds",
            "2 days",
            "3 hrs",
            "250 milliseconds",
        ];
        let both_refuse = [
            "50",
            "",
            " ",
            "fast",
            "5 parsecs",
            "1.2.3s",
            "ms",
            "-5s",
            "+5s",
            "5e",
            "5es",
            "e5s",
            "1e-3s",
            "5S",
            "5H",
            "5 m s",
            "1h30",
            "5 secondz",
            "1 5s",
            ".s",
            "5 e3s",
        ];
        for s in both_accept {
            assert!(Duration::parse(s).is_ok(), "the parser refuses {s:?}");
            assert!(
                schema_accepts::<Duration>(s.into()),
                "the schema refuses {s:?}"
            );
        }
        for s in both_refuse {
            assert!(Duration::parse(s).is_err(), "the parser accepts {s:?}");
            assert!(
                !schema_accepts::<Duration>(s.into()),
                "the schema accepts {s:?}"
            );
        }
        // Only the parser sees that the sum overflows.
        assert!(Duration::parse("1e400s").is_err());
        assert!(schema_accepts::<Duration>("1e400s".into()));
        // Bare numbers are refused by both.
        for v in [
            serde_json::json!(5),
            serde_json::json!(2.5),
            serde_json::json!(null),
        ] {
            assert!(
                serde_json::from_value::<Duration>(v.clone()).is_err(),
                "{v}"
            );
            assert!(!schema_accepts::<Duration>(v.clone()), "{v}");
        }
    }

    #[test]
    fn the_size_pattern_agrees_with_the_parser() {
        let both_accept = [
            "512MiB", "64KB", "64kB", "100", "1.5GB", "-5", "+5", "5 MiB", " 5Mi ", "5.", ".5Ki",
            "1TB", "1Ti", "7B",
        ];
        let both_refuse = [
            "3 bananas",
            "1e3",
            "5mb",
            "MiB",
            "",
            "5 M iB",
            "--5",
            "5MiB5",
            "1,5GB",
            "inf",
        ];
        for s in both_accept {
            assert!(Size::parse(s).is_ok(), "the parser refuses {s:?}");
            assert!(schema_accepts::<Size>(s.into()), "the schema refuses {s:?}");
        }
        for s in both_refuse {
            assert!(Size::parse(s).is_err(), "the parser accepts {s:?}");
            assert!(
                !schema_accepts::<Size>(s.into()),
                "the schema accepts {s:?}"
            );
        }
        for v in [serde_json::json!(2048), serde_json::json!(1.5)] {
            assert!(serde_json::from_value::<Size>(v.clone()).is_ok(), "{v}");
            assert!(schema_accepts::<Size>(v.clone()), "{v}");
        }
        assert!(serde_json::from_value::<Size>(serde_json::json!(true)).is_err());
        assert!(!schema_accepts::<Size>(serde_json::json!(true)));
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(Size::parse("512MiB").unwrap().0, 512.0 * 1048576.0);
        assert_eq!(Size::parse("64KB").unwrap().0, 64000.0);
        assert_eq!(Size::parse("100").unwrap().0, 100.0);
        assert!(Size::parse("3 bananas").is_err());
        assert_eq!(serde_json::from_str::<Size>("2048").unwrap().0, 2048.0);
    }
}
