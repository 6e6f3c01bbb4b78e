//! The affix file: flags and the suffix rules they name.

use std::collections::HashMap;

/// A flag, whatever its spelling in the file (a character, two, or a number).
pub(crate) type Flag = u32;

/// How the files spell flags (`FLAG` in the affix file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagMode {
    /// One character per flag (the default; `UTF-8` is the same once decoded).
    Char,
    /// Two characters per flag.
    Long,
    /// Decimal numbers separated by commas.
    Numeric,
}

impl FlagMode {
    /// The flags of `text`, or why they cannot be read.
    pub(crate) fn parse(self, text: &str) -> Result<Vec<Flag>, String> {
        match self {
            FlagMode::Char => Ok(text.chars().map(u32::from).collect()),
            FlagMode::Long => {
                let chars: Vec<char> = text.chars().collect();
                if !chars.len().is_multiple_of(2) {
                    return Err(format!("{text:?} is not a list of two-character flags"));
                }
                Ok(chars
                    .chunks(2)
                    .map(|pair| (u32::from(pair[0]) << 16) | u32::from(pair[1]))
                    .collect())
            }
            FlagMode::Numeric => text
                .split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .map_err(|_| format!("{n:?} is not a numeric flag"))
                })
                .collect(),
        }
    }
}

/// One element of a rule's condition, matched against one character.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Element {
    Any,
    Char(char),
    /// `[abc]`, or `[^abc]` when negated.
    Set {
        chars: Vec<char>,
        negated: bool,
    },
}

impl Element {
    fn matches(&self, c: char) -> bool {
        match self {
            Element::Any => true,
            Element::Char(x) => *x == c,
            Element::Set { chars, negated } => chars.contains(&c) != *negated,
        }
    }
}

/// What the end of a stem must look like for a suffix rule to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition(Vec<Element>);

impl Condition {
    /// Reads Hunspell's condition syntax: characters, `.`, `[...]`, `[^...]`.
    pub(crate) fn parse(text: &str) -> Result<Condition, String> {
        let mut elements = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            elements.push(match c {
                '.' => Element::Any,
                '[' => {
                    let mut set: Vec<char> = Vec::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == ']' {
                            closed = true;
                            break;
                        }
                        set.push(c);
                    }
                    if !closed {
                        return Err(format!("the condition {text:?} opens a [ it never closes"));
                    }
                    let negated = set.first() == Some(&'^');
                    if negated {
                        set.remove(0);
                    }
                    Element::Set {
                        chars: set,
                        negated,
                    }
                }
                c => Element::Char(c),
            });
        }
        Ok(Condition(elements))
    }

    /// Whether `stem` ends as the condition says.
    fn matches_end(&self, stem: &[char]) -> bool {
        let n = self.0.len();
        n <= stem.len()
            && self
                .0
                .iter()
                .zip(&stem[stem.len() - n..])
                .all(|(e, &c)| e.matches(c))
    }
}

/// A suffix rule: strip `strip` from the end of a stem that meets the
/// condition, then add `add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Suffix {
    pub(crate) flag: Flag,
    pub(crate) strip: Vec<char>,
    pub(crate) add: Vec<char>,
    pub(crate) condition: Condition,
}

impl Suffix {
    /// The form this rule makes of `stem`, if it applies: the stem ends with
    /// `strip`, keeps at least one character, and meets the condition.
    pub(crate) fn apply(&self, stem: &[char]) -> Option<Vec<char>> {
        let keep = stem.len().checked_sub(self.strip.len())?;
        if keep == 0 || stem[keep..] != self.strip[..] || !self.condition.matches_end(stem) {
            return None;
        }
        Some(stem[..keep].iter().chain(&self.add).copied().collect())
    }

    /// The stem this rule would have made `form` from, if `form` ends with
    /// what the rule adds and that stem meets the condition.
    pub(crate) fn unapply(&self, form: &[char]) -> Option<Vec<char>> {
        let keep = form.len().checked_sub(self.add.len())?;
        if form[keep..] != self.add[..] {
            return None;
        }
        let stem: Vec<char> = form[..keep].iter().chain(&self.strip).copied().collect();
        (keep > 0 && self.condition.matches_end(&stem)).then_some(stem)
    }
}

/// The parts of an affix file a [`Dictionary`](crate::Dictionary) uses.
#[derive(Debug, Default)]
pub(crate) struct Affixes {
    pub(crate) mode: Option<FlagMode>,
    /// Every suffix rule, in file order.
    pub(crate) suffixes: Vec<Suffix>,
    /// Indexes into `suffixes`, by flag.
    pub(crate) by_flag: HashMap<Flag, Vec<usize>>,
    /// Indexes into `suffixes`, by what the rule adds.
    pub(crate) by_add: HashMap<Vec<char>, Vec<usize>>,
    /// Entries with this flag are no words of their own (`NEEDAFFIX`).
    pub(crate) need_affix: Option<Flag>,
    /// Entries with this flag are no words at all (`FORBIDDENWORD`).
    pub(crate) forbidden: Option<Flag>,
}

impl Affixes {
    /// Reads the affix file's text; on failure, the line and what is wrong.
    pub(crate) fn parse(text: &str) -> Result<Affixes, (usize, String)> {
        let mut affixes = Affixes::default();
        let mode = |affixes: &Affixes| affixes.mode.unwrap_or(FlagMode::Char);
        // Rule lines still expected under the last SFX header read.
        let mut pending = 0usize;
        for (index, line) in text.lines().enumerate() {
            let at = |reason: String| (index + 1, reason);
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["FLAG", spelling, ..] => {
                    affixes.mode = Some(match *spelling {
                        "long" => FlagMode::Long,
                        "num" => FlagMode::Numeric,
                        _ => FlagMode::Char,
                    });
                }
                ["NEEDAFFIX" | "PSEUDOROOT", flag, ..] => {
                    affixes.need_affix = mode(&affixes).parse(flag).map_err(at)?.first().copied();
                }
                ["FORBIDDENWORD", flag, ..] => {
                    affixes.forbidden = mode(&affixes).parse(flag).map_err(at)?.first().copied();
                }
                ["SFX", _, _, count] if pending == 0 => {
                    pending = count
                        .parse()
                        .map_err(|_| at(format!("{count:?} is not a rule count")))?;
                }
                ["SFX", flag, strip, add, rest @ ..] if pending > 0 => {
                    pending -= 1;
                    let flag = *mode(&affixes)
                        .parse(flag)
                        .map_err(at)?
                        .first()
                        .ok_or_else(|| at("a suffix rule without a flag".into()))?;
                    let text_of = |field: &str| -> Vec<char> {
                        match field {
                            "0" => Vec::new(),
                            field => field.to_lowercase().chars().collect(),
                        }
                    };
                    // What follows a `/` are continuation flags, not read.
                    let add = add.split('/').next().unwrap_or_default();
                    let condition = rest.first().copied().unwrap_or(".");
                    let condition = if condition == "." {
                        Condition(Vec::new())
                    } else {
                        Condition::parse(&condition.to_lowercase()).map_err(at)?
                    };
                    let rule = Suffix {
                        flag,
                        strip: text_of(strip),
                        add: text_of(add),
                        condition,
                    };
                    let id = affixes.suffixes.len();
                    affixes.by_flag.entry(flag).or_default().push(id);
                    affixes.by_add.entry(rule.add.clone()).or_default().push(id);
                    affixes.suffixes.push(rule);
                }
                ["SFX", ..] => {
                    return Err(at("a suffix line of neither a header nor a rule".into()))
                }
                _ => {}
            }
        }
        Ok(affixes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    #[test]
    fn flags_in_every_spelling() {
        assert_eq!(FlagMode::Char.parse("Ab").unwrap(), [65, 98]);
        assert_eq!(FlagMode::Long.parse("AaBb").unwrap().len(), 2);
        assert!(FlagMode::Long.parse("AaB").is_err());
        assert_eq!(FlagMode::Numeric.parse("1,22").unwrap(), [1, 22]);
    }

    #[test]
    fn a_suffix_rule_applies_and_unapplies() {
        // Polish: dieta -> diecie (ta -> cie after a vowel).
        let rule = Suffix {
            flag: 1,
            strip: chars("ta"),
            add: chars("cie"),
            condition: Condition::parse("[aeiouy]ta").unwrap(),
        };
        assert_eq!(rule.apply(&chars("dieta")), Some(chars("diecie")));
        assert_eq!(rule.apply(&chars("pstra")), None, "strip does not match");
        assert_eq!(rule.apply(&chars("krta")), None, "condition fails");
        assert_eq!(rule.unapply(&chars("diecie")), Some(chars("dieta")));
        assert_eq!(
            rule.unapply(&chars("kurcie")),
            None,
            "kurta fails the condition"
        );
        let negated = Condition::parse("[^i]e").unwrap();
        assert!(negated.matches_end(&chars("zdrowe")));
        assert!(!negated.matches_end(&chars("zdrowie")));
    }
}
