//! A query's answer, and the forms it is written in.

use std::io::Write;

use polars::prelude::{AnyValue, DataFrame, ParquetWriter, Series};
use unicode_width::UnicodeWidthStr;

use crate::error::{QueryError, Result, WriteError};

/// How an answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns under a header, then the number of rows: for people.
    Table,
    /// CSV with a header row; a null is an empty field.
    Csv,
    /// One JSON object per row and line, its keys in column order.
    JsonLines,
    /// A Parquet file (zstd), the columns' types kept.
    Parquet,
}

impl Format {
    /// The format's name, as errors say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "a table",
            Format::Csv => "CSV",
            Format::JsonLines => "JSON lines",
            Format::Parquet => "Parquet",
        }
    }
}

/// The rows a query returned.
#[derive(Debug, Clone)]
pub struct Answer {
    frame: DataFrame,
}

impl Answer {
    pub(crate) fn new(frame: DataFrame) -> Answer {
        Answer { frame }
    }

    /// The column names, in order.
    pub fn columns(&self) -> Vec<String> {
        self.frame
            .get_column_names()
            .into_iter()
            .map(|name| name.to_string())
            .collect()
    }

    /// How many rows it holds.
    pub fn rows(&self) -> usize {
        self.frame.height()
    }

    /// Writes the answer to `out` in `format`.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> Result<()> {
        let written = match format {
            Format::Table => self.write_table(out),
            Format::Csv => self.write_csv(out),
            Format::JsonLines => self.write_json_lines(out),
            Format::Parquet => ParquetWriter::new(out)
                .finish(&mut self.frame.clone())
                .map(drop)
                .map_err(WriteError::from),
        };
        written.map_err(|source| QueryError::Write {
            format: format.as_str(),
            source,
        })
    }

    /// Every value of every column, column by column.
    fn values(&self) -> Vec<Vec<AnyValue<'_>>> {
        self.frame
            .columns()
            .iter()
            .map(|column| {
                (0..self.frame.height())
                    .map(|row| column.get(row).unwrap_or(AnyValue::Null))
                    .collect()
            })
            .collect()
    }

    fn write_table(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let names = self.columns();
        let values = self.values();
        let cells: Vec<Vec<String>> = values
            .iter()
            .map(|column| column.iter().map(|v| text(v, "null")).collect())
            .collect();
        let widths: Vec<usize> = names
            .iter()
            .zip(&cells)
            .map(|(name, column)| {
                column
                    .iter()
                    .map(|cell| cell.width())
                    .chain([name.width()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // Numbers align right, as in every other table of glossa.
        let numeric: Vec<bool> = self
            .frame
            .columns()
            .iter()
            .map(|column| column.dtype().is_primitive_numeric())
            .collect();
        let line = |row: Vec<&str>| -> String {
            let padded: Vec<String> = row
                .iter()
                .zip(&widths)
                .zip(&numeric)
                .map(|((cell, &width), &right)| {
                    let space = " ".repeat(width.saturating_sub(cell.width()));
                    if right {
                        format!("{space}{cell}")
                    } else {
                        format!("{cell}{space}")
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        };
        out.write_all(line(names.iter().map(String::as_str).collect()).as_bytes())?;
        for row in 0..self.rows() {
            let row: Vec<&str> = cells.iter().map(|column| column[row].as_str()).collect();
            out.write_all(line(row).as_bytes())?;
        }
        let rows = self.rows();
        writeln!(out, "({rows} row{})", if rows == 1 { "" } else { "s" })?;
        Ok(())
    }

    fn write_csv(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(self.columns())?;
        let values = self.values();
        for row in 0..self.rows() {
            writer.write_record(values.iter().map(|column| text(&column[row], "")))?;
        }
        writer.flush()?;
        Ok(())
    }

    fn write_json_lines(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let keys: Vec<String> = self
            .columns()
            .iter()
            .map(|name| json_string(name))
            .collect();
        let values = self.values();
        for row in 0..self.rows() {
            let fields: Vec<String> = keys
                .iter()
                .zip(&values)
                .map(|(key, column)| format!("{key}:{}", json(&column[row])))
                .collect();
            writeln!(out, "{{{}}}", fields.join(","))?;
        }
        Ok(())
    }
}

/// A value as text: strings as they are, numbers in their shortest exact
/// form (a float32 as a float32, not widened), `null` as told.
fn text(value: &AnyValue<'_>, null: &str) -> String {
    match value {
        AnyValue::Null => null.to_string(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float32(x) => x.to_string(),
        AnyValue::Float64(x) => x.to_string(),
        AnyValue::List(series) => {
            let items: Vec<String> = items(series).iter().map(|v| text(v, "null")).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// A value as JSON: numbers and booleans as such (a NaN or infinity, which
/// JSON cannot hold, as null), lists as arrays, everything else as a string.
fn json(value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => "null".to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Float32(x) if !x.is_finite() => "null".to_string(),
        AnyValue::Float64(x) if !x.is_finite() => "null".to_string(),
        AnyValue::Float32(_) | AnyValue::Float64(_) => text(value, "null"),
        v if v.dtype().is_integer() => v.to_string(),
        AnyValue::List(series) => {
            let items: Vec<String> = items(series).iter().map(json).collect();
            format!("[{}]", items.join(","))
        }
        other => json_string(&text(other, "null")),
    }
}

/// The values of a list.
fn items(series: &Series) -> Vec<AnyValue<'_>> {
    (0..series.len())
        .map(|i| series.get(i).unwrap_or(AnyValue::Null))
        .collect()
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{df, NamedFrom};

    fn answer() -> Answer {
        let frame = df!(
            "token" => ["dieta", "a,\"b\"", "łódź"],
            "z" => [27.45f32, f32::NAN, -0.5],
            "n" => [Some(3u32), None, Some(1)],
        )
        .unwrap();
        Answer::new(frame)
    }

    fn written(format: Format) -> String {
        let mut out = Vec::new();
        answer().write(format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_and_leaves_nulls_empty() {
        assert_eq!(
            written(Format::Csv),
            "token,z,n\ndieta,27.45,3\n\"a,\"\"b\"\"\",NaN,\nłódź,-0.5,1\n"
        );
    }

    #[test]
    fn json_lines_keep_column_order_and_float32_digits() {
        assert_eq!(
            written(Format::JsonLines),
            "{\"token\":\"dieta\",\"z\":27.45,\"n\":3}\n\
             {\"token\":\"a,\\\"b\\\"\",\"z\":null,\"n\":null}\n\
             {\"token\":\"łódź\",\"z\":-0.5,\"n\":1}\n"
        );
        let list = Answer::new(df!("ids" => [Series::new("".into(), [1u32, 2])]).unwrap());
        let mut out = Vec::new();
        list.write(Format::JsonLines, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"ids\":[1,2]}\n");
    }

    #[test]
    fn tables_align_by_display_width_and_count_rows() {
        assert_eq!(
            written(Format::Table),
            "token      z     n\n\
             dieta  27.45     3\n\
             a,\"b\"    NaN  null\n\
             łódź    -0.5     1\n\
             (3 rows)\n"
        );
    }
}
