//! The character sets Hunspell files come in, decoded to UTF-8.

/// ISO 8859-2 from 0xA0 on (the bytes below are ASCII and C1 controls, as in
/// ISO 8859-1).
const LATIN2_HIGH: &str = "\u{a0}Ą˘Ł¤ĽŚ§¨ŠŞŤŹ\u{ad}ŽŻ°ą˛ł´ľśˇ¸šşťź˝žżŔÁÂĂÄĹĆÇČÉĘËĚÍÎĎĐŃŇÓÔŐÖ×ŘŮÚŰÜÝŢßŕáâăäĺćçčéęëěíîďđńňóôőö÷řůúűüýţ˙";

/// The character set an affix file names on its `SET` line, if any; only
/// ASCII is read, which every supported set shares.
pub(crate) fn declared_set(aff: &[u8]) -> Option<String> {
    aff.split(|&b| b == b'\n').find_map(|line| {
        let line = std::str::from_utf8(line).ok()?.trim();
        line.strip_prefix("SET ")
            .map(|set| set.trim().to_ascii_uppercase())
    })
}

/// `bytes` in the character set `set`, as UTF-8; `None` for a set this
/// reader does not know (or UTF-8 that is not).
pub(crate) fn decode(bytes: &[u8], set: &str) -> Option<String> {
    match set {
        "UTF-8" => String::from_utf8(bytes.to_vec()).ok(),
        "ISO8859-1" => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        "ISO8859-2" => {
            let high: Vec<char> = LATIN2_HIGH.chars().collect();
            Some(
                bytes
                    .iter()
                    .map(|&b| match b {
                        0xa0.. => high[usize::from(b - 0xa0)],
                        _ => char::from(b),
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin2_covers_its_upper_half() {
        assert_eq!(LATIN2_HIGH.chars().count(), 96);
        // ą ę ł ó ś ź ż ć ń and their capitals, at their ISO 8859-2 codes.
        let bytes = [
            0xb1, 0xea, 0xb3, 0xf3, 0xb6, 0xbc, 0xbf, 0xe6, 0xf1, 0xa1, 0xa3, 0xaf,
        ];
        assert_eq!(decode(&bytes, "ISO8859-2").unwrap(), "ąęłóśźżćńĄŁŻ");
        assert_eq!(decode(b"SET", "ISO8859-2").unwrap(), "SET");
        assert_eq!(decode(b"x", "KOI8-R"), None);
    }

    #[test]
    fn the_set_line_is_found() {
        assert_eq!(
            declared_set(b"# c\nSET ISO8859-2\nTRY a"),
            Some("ISO8859-2".into())
        );
        assert_eq!(declared_set(b"TRY a"), None);
    }
}
