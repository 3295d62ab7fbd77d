//! Tokens of a review: runs of Han characters segmented by jieba, Latin
//! words (lower-cased, apostrophes kept: "didn't"), emoticons, emoji, and
//! the punctuation that ends a clause. Everything else (spaces, quotes,
//! other symbols) is dropped.

use super::lexicon::EMOTICONS;

/// A text's language, as `detect_language` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
    Undetermined,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh",
            Language::Undetermined => "und",
        }
    }
}

/// One token: a byte range of `Tokens::text` (its normalised form).
#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub start: u32,
    pub end: u32,
    /// Han text, cut by the segmenter.
    pub han: bool,
    /// Written in capitals (two letters or more) in a text that also has
    /// lower case: emphasis.
    pub shouted: bool,
}

/// The tokens of one text, in a buffer reused across texts.
#[derive(Debug, Default)]
pub struct Tokens {
    pub text: String,
    pub list: Vec<Token>,
}

impl Tokens {
    pub fn get(&self, token: &Token) -> &str {
        &self.text[token.start as usize..token.end as usize]
    }

    fn push(&mut self, piece: &str, han: bool, shouted: bool) {
        let start = self.text.len() as u32;
        self.text.push_str(piece);
        self.list.push(Token {
            start,
            end: self.text.len() as u32,
            han,
            shouted,
        });
    }
}

pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF | 0x2A700..=0x2EBEF)
}

/// Punctuation that ends a clause (kept as a token of its own).
fn is_boundary(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | ';'
            | ':'
            | '?'
            | '!'
            | '\n'
            | '，'
            | '。'
            | '；'
            | '：'
            | '？'
            | '！'
            | '、'
            | '…'
            | '~'
            | '～'
    )
}

/// Characters that only modify the emoji before them.
fn is_emoji_modifier(c: char) -> bool {
    matches!(c as u32, 0xFE0E | 0xFE0F | 0x200D | 0x1F3FB..=0x1F3FF)
}

pub fn tokens(jieba: &jieba_rs::Jieba, text: &str, out: &mut Tokens) {
    out.text.clear();
    out.list.clear();
    let has_lower = text.chars().any(char::is_lowercase);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if is_han(c) {
            let end = rest.find(|c: char| !is_han(c)).unwrap_or(rest.len());
            for token in jieba.cut(&rest[..end], false) {
                out.push(token.word, true, false);
            }
            rest = &rest[end..];
        } else if c.is_alphanumeric() {
            let end = word_end(rest);
            let word = &rest[..end];
            let start = out.text.len() as u32;
            let (letters, upper) = if word.is_ascii() {
                // Most review text: bytes, no per-character case tables.
                out.text.push_str(word);
                let pushed = &mut out.text[start as usize..];
                let bytes = pushed.as_bytes();
                let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic()).count();
                let upper = bytes.iter().filter(|b| b.is_ascii_uppercase()).count();
                pushed.make_ascii_lowercase();
                (letters, upper)
            } else {
                let (mut letters, mut upper) = (0usize, 0usize);
                for ch in word.chars() {
                    if ch.is_alphabetic() {
                        letters += 1;
                        upper += usize::from(ch.is_uppercase());
                    }
                    // Curly apostrophes read as straight ones ("didn’t").
                    let ch = if ch == '’' { '\'' } else { ch };
                    out.text.extend(ch.to_lowercase());
                }
                (letters, upper)
            };
            out.list.push(Token {
                start,
                end: out.text.len() as u32,
                han: false,
                shouted: has_lower && letters >= 2 && upper == letters,
            });
            rest = &rest[end..];
        } else if c == ' ' {
            // Spaces end words and start nothing.
            rest = &rest[1..];
        } else if let Some(emoticon) = emoticon_at(rest) {
            out.push(emoticon, false, false);
            rest = &rest[emoticon.len()..];
        } else {
            let len = c.len_utf8();
            if is_boundary(c) {
                // Runs of the same mark ("!!!") are kept apart: each
                // exclamation mark adds emphasis.
                out.push(&rest[..len], false, false);
            } else if !(c.is_whitespace()
                || c.is_ascii_punctuation()
                || is_emoji_modifier(c)
                || c.is_control())
            {
                // Emoji and other symbols: one token per character.
                out.push(&rest[..len], false, false);
            }
            rest = &rest[len..];
        }
    }
}

/// The end of the Latin word at the start of `s`: letters and digits, with
/// apostrophes inside ("didn't", "don’t").
fn word_end(s: &str) -> usize {
    // ASCII letters and digits, and apostrophes before a letter, by bytes;
    // anything else is decided by the general rule below.
    let bytes = s.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let b = bytes[end];
        let next = bytes.get(end + 1);
        let apostrophe_in_word = b == b'\'' && next.is_some_and(u8::is_ascii_alphabetic);
        if b.is_ascii_alphanumeric() || apostrophe_in_word {
            end += 1;
        } else if b.is_ascii() && !(b == b'\'' && next.is_some_and(|n| !n.is_ascii())) {
            return end;
        } else {
            break;
        }
    }
    end + word_end_unicode(&s[end..])
}

fn word_end_unicode(s: &str) -> usize {
    let mut end = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() && !is_han(c) {
            end = i + c.len_utf8();
        } else if (c == '\'' || c == '’')
            && chars
                .peek()
                .is_some_and(|(_, n)| n.is_alphabetic() && !is_han(*n))
        {
            continue;
        } else {
            break;
        }
    }
    end
}

/// An emoticon at the start of `s` (":)", ":-(", "<3", ...), matched without
/// regard to case (":D").
fn emoticon_at(s: &str) -> Option<&'static str> {
    let bytes = s.as_bytes();
    if !matches!(bytes.first(), Some(b':' | b';' | b'=' | b'<' | b'>')) {
        return None;
    }
    EMOTICONS.iter().copied().find(|e| {
        bytes.len() >= e.len()
            && bytes[..e.len()]
                .iter()
                .zip(e.as_bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
            // ":D" but not the start of "note:Done".
            && !(e.ends_with('d') && bytes.get(e.len()).is_some_and(u8::is_ascii_alphanumeric))
    })
}

pub fn detect_language(text: &str) -> Language {
    let mut han = 0usize;
    let mut latin_words = 0usize;
    let mut in_word = false;
    for c in text.chars() {
        if is_han(c) {
            han += 1;
            in_word = false;
        } else if c.is_alphabetic() {
            if !in_word {
                latin_words += 1;
            }
            in_word = true;
        } else {
            in_word = false;
        }
    }
    if han > 0 && han >= latin_words {
        Language::Chinese
    } else if latin_words > 0 {
        Language::English
    } else {
        Language::Undetermined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let jieba = jieba_rs::Jieba::new();
        let mut t = Tokens::default();
        tokens(&jieba, text, &mut t);
        t.list.iter().map(|k| t.get(k).to_string()).collect()
    }

    #[test]
    fn emoticons_start_with_the_bytes_the_fast_check_allows() {
        for e in EMOTICONS {
            assert!(
                matches!(e.as_bytes()[0], b':' | b';' | b'=' | b'<' | b'>'),
                "{e}"
            );
        }
    }

    #[test]
    fn ascii_and_unicode_words_cut_alike() {
        let jieba = jieba_rs::Jieba::new();
        let mut out = Tokens::default();
        tokens(
            &jieba,
            "Didn't work, l'été DON’T Über-cool x2 :) ok",
            &mut out,
        );
        let words: Vec<&str> = out.list.iter().map(|t| out.get(t)).collect();
        assert_eq!(
            words,
            vec![
                "didn't", "work", ",", "l'été", "don't", "über", "cool", "x2", ":)", "ok"
            ]
        );
    }

    #[test]
    fn latin_words_emoticons_and_emoji() {
        assert_eq!(
            words("Didn’t WORK :( 👍🏽 ok!!"),
            ["didn't", "work", ":(", "👍", "ok", "!", "!"]
        );
        assert_eq!(
            words("rock'n'roll, 'quoted'"),
            ["rock'n'roll", ",", "quoted"]
        );
    }

    #[test]
    fn han_runs_go_to_the_segmenter() {
        let w = words("物流很fast，质量不错");
        assert_eq!(w.first().map(String::as_str), Some("物流"));
        assert!(w.contains(&"fast".to_string()), "{w:?}");
        assert!(w.contains(&"，".to_string()), "{w:?}");
        assert!(w.contains(&"不错".to_string()), "{w:?}");
    }

    #[test]
    fn languages() {
        assert_eq!(detect_language("Great value"), Language::English);
        assert_eq!(detect_language("质量不错 quality"), Language::Chinese);
        assert_eq!(detect_language("👍👍 !!"), Language::Undetermined);
        assert_eq!(detect_language(""), Language::Undetermined);
    }
}
