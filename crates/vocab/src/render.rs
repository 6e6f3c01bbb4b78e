//! Turning bytes into readable text.

/// Renders bytes as UTF-8 text, writing each byte that is not part of a
/// complete character as an escape such as `<C5>`.
///
/// A byte-level token often ends inside a multi-byte character (`ł` is C5 82,
/// and a vocabulary may split it); lossy decoding would print `�` and hide
/// which byte it was.
pub fn render_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("<{byte:02X}>"));
        }
    }
    out
}

/// Makes text safe for one table cell: control characters become escapes.
pub(crate) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("<{byte:02X}>"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_characters_render_as_text() {
        assert_eq!(
            render_bytes("dietą łódź żółw".as_bytes()),
            "dietą łódź żółw"
        );
    }

    #[test]
    fn split_characters_render_as_escapes() {
        let lodz = "łódź".as_bytes();
        assert_eq!(render_bytes(&lodz[..1]), "<C5>");
        assert_eq!(render_bytes(&lodz[1..]), "<82>ódź");
        assert_eq!(render_bytes(b"a\xffb"), "a<FF>b");
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(escape_controls("a\nb\t\u{1}"), "a\\nb\\t<01>");
    }
}
