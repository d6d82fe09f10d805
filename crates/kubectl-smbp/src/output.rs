//! How results are printed: `-o table` (aligned columns like kubectl's, colour only on a terminal
//! and never with `NO_COLOR`), `-o json` and `-o yaml` (the same data struct, for scripts).

use crate::error::{Error, Result};
use serde::Serialize;

/// The output format of `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned tables for people.
    #[default]
    Table,
    /// The command's data as JSON.
    Json,
    /// The command's data as YAML.
    Yaml,
}

/// Prints `data` as JSON or YAML, or returns `None` for the table format (the caller renders).
pub fn structured<T: Serialize>(format: Format, data: &T) -> Result<Option<String>> {
    let text = match format {
        Format::Table => return Ok(None),
        Format::Json => serde_json::to_string_pretty(data).map(|mut s| {
            s.push('\n');
            s
        }),
        Format::Yaml => {
            return serde_yaml::to_string(data)
                .map(Some)
                .map_err(|e| Error::Failed(format!("cannot render YAML: {e}")));
        }
    };
    text.map(Some)
        .map_err(|e| Error::Failed(format!("cannot render JSON: {e}")))
}

/// How a cell is coloured on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// No colour.
    #[default]
    Plain,
    /// Healthy: green.
    Good,
    /// Needs attention: yellow.
    Warn,
    /// Broken: red.
    Bad,
}

impl Tone {
    /// Good when `ok`, else bad.
    pub fn of(ok: bool) -> Self {
        if ok { Tone::Good } else { Tone::Bad }
    }

    fn code(self) -> Option<&'static str> {
        match self {
            Tone::Plain => None,
            Tone::Good => Some("32"),
            Tone::Warn => Some("33"),
            Tone::Bad => Some("31"),
        }
    }
}

/// `text` in `tone` when `colour` is on.
pub fn paint(text: &str, tone: Tone, colour: bool) -> String {
    match tone.code() {
        Some(code) if colour => format!("\x1b[{code}m{text}\x1b[0m"),
        _ => text.to_string(),
    }
}

/// One table cell.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    text: String,
    tone: Tone,
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Self {
        Cell {
            text: text.into(),
            tone: Tone::Plain,
        }
    }
}

/// A cell with a colour.
pub fn toned(text: impl Into<String>, tone: Tone) -> Cell {
    Cell {
        text: text.into(),
        tone,
    }
}

/// Columns aligned as kubectl aligns them (three spaces between columns, upper-case headers).
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, without trailing spaces.
    pub fn render(&self, colour: bool) -> String {
        let width = |i: usize| {
            self.rows
                .iter()
                .map(|r| r.get(i).map_or(0, |c| c.text.chars().count()))
                .chain([self.headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let header: Vec<Cell> = self.headers.iter().map(|h| Cell::from(*h)).collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let last = i + 1 == row.len();
                line.push_str(&paint(&cell.text, cell.tone, colour));
                if !last {
                    let pad = widths[i] - cell.text.chars().count() + 3;
                    line.push_str(&" ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_colour_wraps_only_the_text() {
        let mut table = Table::new(&["NAME", "READY"]);
        table.row(vec!["edge-store-0".into(), toned("1/1", Tone::Good)]);
        table.row(vec!["e".into(), toned("0/1", Tone::Bad)]);
        assert_eq!(
            table.render(false),
            "NAME           READY\nedge-store-0   1/1\ne              0/1\n"
        );
        let coloured = table.render(true);
        assert!(coloured.contains("\x1b[32m1/1\x1b[0m"));
        assert!(coloured.contains("e              \x1b[31m0/1"));
    }
}
