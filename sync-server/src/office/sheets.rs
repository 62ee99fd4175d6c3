//! Tables for download: CSV the way Polish Excel opens it (UTF-8 with a byte-order mark,
//! `;` between cells, CRLF line ends, RFC 4180 quoting) and XLSX (a bold header, column
//! widths, dates as dates, text always as text).
//!
//! A cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return) is neutralised with a leading `'` in CSV: class titles and
//! names are typed by people, and `=HYPERLINK(...)` must stay text. In XLSX every text
//! is written as a string cell, which no spreadsheet evaluates.

use jiff::civil::{Date, DateTime};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::{OResult, invalid};

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    Date(Date),
    DateTime(DateTime),
    Empty,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    /// The cell as CSV text: ISO dates, neutralised text.
    fn csv_text(&self) -> String {
        match self {
            Cell::Text(t) => neutralise(t),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::DateTime(dt) => dt.strftime("%Y-%m-%d %H:%M").to_string(),
            Cell::Empty => String::new(),
        }
    }

    /// How wide the column must be for this cell, in characters.
    fn width(&self) -> usize {
        match self {
            Cell::Text(t) => t.chars().count(),
            Cell::Number(n) => n.to_string().len(),
            Cell::Date(_) => 10,
            Cell::DateTime(_) => 16,
            Cell::Empty => 0,
        }
    }
}

/// A table to export: a sheet name, a header row and the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub sheet: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Text a spreadsheet would take for a formula, made plain text with a leading `'`.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_error(e: impl std::fmt::Display) -> super::OfficeError {
    invalid(
        format!("Nie udało się przygotować pliku CSV: {e}"),
        format!("Could not prepare the CSV file: {e}"),
    )
}

/// CSV bytes: a BOM, then the header and rows separated by `;`, lines ending in CRLF.
pub fn csv_bytes(table: &Table) -> OResult<Vec<u8>> {
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(&mut out);
        let header: Vec<String> = table.header.iter().map(|h| neutralise(h)).collect();
        w.write_record(&header).map_err(csv_error)?;
        for row in &table.rows {
            w.write_record(row.iter().map(Cell::csv_text))
                .map_err(csv_error)?;
        }
        w.flush().map_err(csv_error)?;
    }
    Ok(out)
}

fn xlsx_error(e: XlsxError) -> super::OfficeError {
    invalid(
        format!("Nie udało się przygotować pliku XLSX: {e}"),
        format!("Could not prepare the XLSX file: {e}"),
    )
}

fn excel_date(d: Date) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).unwrap_or(1900),
        u8::try_from(d.month()).unwrap_or(1),
        u8::try_from(d.day()).unwrap_or(1),
    )
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { ' ' } else { c })
        .take(31)
        .collect();
    let clean = clean.trim().to_owned();
    if clean.is_empty() {
        "Arkusz1".to_owned()
    } else {
        clean
    }
}

/// XLSX bytes: one sheet, a bold frozen header, columns as wide as their text.
pub fn xlsx_bytes(table: &Table) -> OResult<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let date_time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let sheet = book.add_worksheet();
    sheet
        .set_name(sheet_name(&table.sheet))
        .map_err(xlsx_error)?;
    let mut widths: Vec<usize> = table.header.iter().map(|h| h.chars().count()).collect();
    for (col, title) in table.header.iter().enumerate() {
        let col = u16::try_from(col).map_err(|_| csv_error("too many columns"))?;
        sheet
            .write_string_with_format(0, col, title, &bold)
            .map_err(xlsx_error)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| csv_error("too many rows"))?;
        for (c, cell) in row.iter().enumerate() {
            if widths.len() <= c {
                widths.resize(c + 1, 0);
            }
            widths[c] = widths[c].max(cell.width());
            let c = u16::try_from(c).map_err(|_| csv_error("too many columns"))?;
            match cell {
                Cell::Text(t) => sheet.write_string_with_format(r, c, t, &text),
                Cell::Number(n) => {
                    // Row numbers and positions: small, exact in an f64.
                    let n = *n as f64;
                    sheet.write_number_with_format(r, c, n, &text)
                }
                Cell::Date(d) => {
                    let at = excel_date(*d).map_err(xlsx_error)?;
                    sheet.write_datetime_with_format(r, c, at, &date)
                }
                Cell::DateTime(dt) => {
                    let at = excel_date(dt.date())
                        .and_then(|d| {
                            d.and_hms(
                                u16::try_from(dt.hour()).unwrap_or(0),
                                u8::try_from(dt.minute()).unwrap_or(0),
                                f64::from(dt.second()),
                            )
                        })
                        .map_err(xlsx_error)?;
                    sheet.write_datetime_with_format(r, c, at, &date_time)
                }
                Cell::Empty => Ok(&mut *sheet),
            }
            .map_err(xlsx_error)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        let c = u16::try_from(c).map_err(|_| csv_error("too many columns"))?;
        // A little room beyond the longest text, within what a screen shows.
        let width = u32::try_from((*w).clamp(6, 60) + 2).unwrap_or(62);
        sheet.set_column_width(c, width).map_err(xlsx_error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    book.save_to_buffer().map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            sheet: "Lista: Gimnastyka".into(),
            header: vec!["osoba".into(), "data".into(), "uwagi".into()],
            rows: vec![
                vec![
                    Cell::text("=HYPERLINK(\"x\")"),
                    Cell::Date(jiff::civil::date(2026, 12, 5)),
                    Cell::text("a;b \"c\"\nd"),
                ],
                vec![Cell::text("+1"), Cell::Empty, Cell::text("-2")],
                vec![Cell::text("@SUM(A1)"), Cell::text("\tx"), Cell::text("\ry")],
                vec![
                    Cell::text("Łukasiewicz"),
                    Cell::Number(3),
                    Cell::text("1+1"),
                ],
            ],
        }
    }

    #[test]
    fn csv_has_a_bom_semicolons_crlf_and_quotes() {
        let bytes = csv_bytes(&table()).expect("csv");
        assert!(bytes.starts_with("\u{FEFF}".as_bytes()));
        let text = String::from_utf8(bytes).expect("utf-8");
        let text = text.trim_start_matches('\u{FEFF}');
        assert!(text.starts_with("osoba;data;uwagi\r\n"), "{text}");
        assert!(
            text.contains("\"'=HYPERLINK(\"\"x\"\")\";2026-12-05;\"a;b \"\"c\"\"\nd\"\r\n"),
            "{text}"
        );
        assert!(text.contains("'+1;;'-2\r\n"), "{text}");
        assert!(text.contains("'@SUM(A1)"), "{text}");
        assert!(text.contains("'\tx"), "{text}");
        assert!(text.contains("Łukasiewicz;3;1+1\r\n"), "{text}");
        assert!(!text.contains(",3,"));
    }

    #[test]
    fn only_leading_formula_characters_are_neutralised() {
        for bad in ["=1", "+1", "-1", "@x", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        for good in ["Anna", "1-2", "a=b", "'quoted", ""] {
            assert_eq!(neutralise(good), good);
        }
    }

    #[test]
    fn xlsx_is_a_zip_with_a_sheet_name_excel_accepts() {
        let bytes = xlsx_bytes(&table()).expect("xlsx");
        assert!(bytes.starts_with(b"PK"), "a zip file");
        assert_eq!(sheet_name("Lista: a/b?"), "Lista  a b");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
        assert_eq!(sheet_name("[]"), "Arkusz1");
    }
}
