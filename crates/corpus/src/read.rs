//! Reading the texts of one corpus file.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use arrow_array::{Array, LargeStringArray, StringArray, StringViewArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::error::{CorpusError, Result};
use crate::source::TextFormat;

/// Every text of `path`, read as `format`; `column` names the text field of
/// JSONL, CSV and Parquet files.
pub(crate) fn texts(path: &Path, format: TextFormat, column: &str) -> Result<Vec<String>> {
    match format {
        TextFormat::Text => lines(path).map(|lines| {
            lines
                .into_iter()
                .map(|(_, line)| line)
                .filter(|l| !l.trim().is_empty())
                .collect()
        }),
        TextFormat::Jsonl => jsonl(path, column),
        TextFormat::Csv => csv(path, column),
        TextFormat::Parquet => parquet(path, column),
    }
}

fn lines(path: &Path) -> Result<Vec<(usize, String)>> {
    let file = File::open(path).map_err(CorpusError::io(path))?;
    BufReader::new(file)
        .lines()
        .enumerate()
        .map(|(i, line)| line.map(|l| (i + 1, l)).map_err(CorpusError::io(path)))
        .collect()
}

fn jsonl(path: &Path, column: &str) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for (line, text) in lines(path)? {
        if text.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| CorpusError::Json {
                path: path.to_path_buf(),
                line,
                source,
            })?;
        let object = value.as_object().ok_or_else(|| CorpusError::NotAnObject {
            path: path.to_path_buf(),
            line,
        })?;
        match object.get(column) {
            Some(serde_json::Value::String(text)) => texts.push(text.clone()),
            Some(serde_json::Value::Null) => {}
            Some(other) => texts.push(other.to_string()),
            None => {
                return Err(CorpusError::NoTextColumn {
                    path: path.to_path_buf(),
                    column: column.to_string(),
                    found: object.keys().cloned().collect(),
                })
            }
        }
    }
    Ok(texts)
}

fn csv(path: &Path, column: &str) -> Result<Vec<String>> {
    let bad = |source: csv::Error| CorpusError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(bad)?;
    let headers = reader.headers().map_err(bad)?.clone();
    let index =
        headers
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| CorpusError::NoTextColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
                found: headers.iter().map(str::to_string).collect(),
            })?;
    let mut texts = Vec::new();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        if let Some(text) = record.get(index) {
            texts.push(text.to_string());
        }
    }
    Ok(texts)
}

fn parquet(path: &Path, column: &str) -> Result<Vec<String>> {
    let bad = |source: parquet::errors::ParquetError| CorpusError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(CorpusError::io(path))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(bad)?;
    let schema = builder.schema().clone();
    let Some(index) = schema.fields().iter().position(|f| f.name() == column) else {
        return Err(CorpusError::NoTextColumn {
            path: path.to_path_buf(),
            column: column.to_string(),
            found: schema.fields().iter().map(|f| f.name().clone()).collect(),
        });
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
    let reader = builder.with_projection(mask).build().map_err(bad)?;
    let mut texts = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|source| CorpusError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        let array = batch.column(0);
        let any = array.as_any();
        let mut push = |value: Option<&str>| {
            if let Some(text) = value {
                texts.push(text.to_string());
            }
        };
        if let Some(strings) = any.downcast_ref::<StringArray>() {
            strings.iter().for_each(&mut push);
        } else if let Some(strings) = any.downcast_ref::<LargeStringArray>() {
            strings.iter().for_each(&mut push);
        } else if let Some(strings) = any.downcast_ref::<StringViewArray>() {
            strings.iter().for_each(&mut push);
        } else {
            return Err(CorpusError::NotText {
                path: path.to_path_buf(),
                column: column.to_string(),
                found: array.data_type().to_string(),
            });
        }
    }
    Ok(texts)
}
