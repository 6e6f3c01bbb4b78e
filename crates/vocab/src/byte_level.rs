//! GPT-2's byte-to-character table (`bytes_to_unicode` in the original code).
//!
//! Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls,
//! space, soft hyphen, …) are shifted to U+0100 and up, so that every byte has
//! a visible character and `Ġ` (U+0120) is the space.

use std::sync::OnceLock;

/// Maps each stand-in character back to its byte; `None` for other characters.
pub(crate) fn byte_of(c: char) -> Option<u8> {
    static TABLE: OnceLock<Vec<(char, u8)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table: Vec<(char, u8)> = (0u8..=255).map(|b| (char_of(b), b)).collect();
        table.sort_unstable();
        table
    });
    table
        .binary_search_by_key(&c, |&(ch, _)| ch)
        .ok()
        .map(|i| table[i].1)
}

/// The stand-in character of byte `b`.
fn char_of(b: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable(b) {
        char::from(b)
    } else {
        let shifted = (0u8..b).filter(|&x| !printable(x)).count() as u32;
        char::from_u32(256 + shifted).expect("U+0100..U+0143 are valid characters")
    }
}

/// The bytes a byte-level piece stands for, or `None` if it holds another character.
pub(crate) fn decode(piece: &str) -> Option<Vec<u8>> {
    piece.chars().map(byte_of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_and_newline_map_like_gpt2() {
        assert_eq!(byte_of('Ġ'), Some(b' '));
        assert_eq!(byte_of('Ċ'), Some(b'\n'));
        assert_eq!(byte_of('!'), Some(b'!'));
        assert_eq!(byte_of('č'), Some(b'\r'));
    }

    #[test]
    fn table_is_a_bijection() {
        let mut seen = [false; 256];
        for b in 0u8..=255 {
            let c = char_of(b);
            assert_eq!(byte_of(c), Some(b));
            assert!(!seen[b as usize]);
            seen[b as usize] = true;
        }
    }

    #[test]
    fn polish_letter_decodes_to_utf8() {
        // "ą" is C4 85; its stand-ins are 'Ä' (C4, printable) and 'ħ' (0x85 shifted).
        let piece: String = "ą".bytes().map(char_of).collect();
        assert_eq!(decode(&piece).as_deref(), Some("ą".as_bytes()));
        assert_eq!(decode("ĠdietÄħ").as_deref(), Some(" dietą".as_bytes()));
    }
}
