//! The markdown report: headings, paragraphs and tables, printed to stdout as each section
//! finishes (a long run shows its progress) and kept whole for `--out`.

use std::fmt::Write;

#[derive(Default)]
pub struct Report {
    text: String,
}

impl Report {
    pub fn heading(&mut self, title: &str) {
        self.push(&format!("## {title}\n\n"));
    }

    pub fn paragraph(&mut self, text: &str) {
        self.push(&format!("{text}\n\n"));
    }

    /// A markdown table; every row has as many cells as `headers`.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let mut table = String::new();
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let cells: Vec<&str> = cells.collect();
            format!("| {} |\n", cells.join(" | "))
        };
        table.push_str(&line(&mut headers.iter().copied()));
        table.push_str(&line(&mut headers.iter().map(|_| "---")));
        for row in rows {
            table.push_str(&line(&mut row.iter().map(String::as_str)));
        }
        table.push('\n');
        self.push(&table);
    }

    fn push(&mut self, text: &str) {
        print!("{text}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let _ = write!(self.text, "{text}");
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A number with thousands separators, e.g. `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Milliseconds with a precision that suits their size.
pub fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(millis(1.234), "1.23");
        assert_eq!(millis(123.45), "123.5");
    }
}
