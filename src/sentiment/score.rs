//! From tokens to a score: classify each token against the lexicon, then
//! combine the valenced words with the words that modify them.
//!
//! The rules, in the order they apply to a valenced word:
//! - a degree word at most two tokens before it scales it ("very good" ×1.3,
//!   "slightly slow" ×0.55, 非常 ×1.5, 有点 ×0.6);
//! - a negator at most four tokens before it, in the same clause, multiplies
//!   it by −0.75 ("not good" is bad, "not bad" is fairly good, 没有色差 is
//!   praise); a negator right before a degree word ("not very good", 不太好)
//!   multiplies by −0.5 instead and the degree word is dropped;
//! - a word in capitals within mixed-case text counts 1.25 times;
//! - after a contrast word ("but", 但是) what came before counts half and what
//!   follows 1.5 times; a concession clause ("although ...", 虽然...) counts half
//!   and the clauses after it 1.5 times;
//! - "high"/"low" (高/低) take their valence from the nearest aspect noun in
//!   the clause (high quality +2, a high price −1.5, 性价比高 +2);
//! - each exclamation mark (up to four) adds 0.25 in the direction of the sum.
//!
//! The sum s of weighted valences gives the score s / √(s² + 6); each aspect
//! gets the same from the words nearest its nouns (or implying it).

use super::Aspect;
use super::lexicon::{CHINESE_PARTICLES, CHINESE_PREFIXES, Entry, Lexicon};
use super::tokenize::Tokens;

/// Normalisation constant: one clear word ("great", 3.0) scores 0.77, two
/// mild ones ("good", "nice") 0.83.
const ALPHA: f64 = 6.0;
const NEGATION: f32 = -0.75;
const NEGATED_DEGREE: f32 = -0.5;
const NEGATION_WINDOW: usize = 4;
const DEGREE_WINDOW: usize = 2;
const SHOUTED: f32 = 1.25;
const EXCLAIM: f64 = 0.25;
const MAX_EXCLAIMS: usize = 4;

/// A token's meaning (None: a word the lexicon does not know).
#[derive(Debug, Clone, Copy)]
pub struct Classified {
    entry: Option<Entry>,
    shouted: bool,
}

/// A valenced word once its modifiers are applied.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    value: f32,
    weight: f32,
    clause: u32,
    position: u32,
    implied: Option<Aspect>,
    conceded: bool,
    /// "high"/"low": `value` is ±1 × modifiers, resolved against a noun.
    scalar: bool,
    noun: Option<(Aspect, f32)>,
}

/// A text's score and per-aspect scores (None: the aspect is not mentioned).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Analysis {
    pub score: f64,
    pub aspects: [Option<f64>; 6],
}

pub fn classify(lexicon: &Lexicon, tokens: &Tokens, out: &mut Vec<Classified>) {
    out.clear();
    let list = &tokens.list;
    let mut i = 0;
    while i < list.len() {
        let token = &list[i];
        let text = tokens.get(token);
        if !token.han {
            let phrase = lexicon.phrases_from(text).iter().find(|(rest, _)| {
                rest.len() < list.len() - i
                    && rest
                        .iter()
                        .zip(&list[i + 1..])
                        .all(|(word, t)| !t.han && tokens.get(t) == *word)
            });
            if let Some((rest, entry)) = phrase {
                out.push(Classified {
                    entry: Some(*entry),
                    shouted: token.shouted,
                });
                i += 1 + rest.len();
                continue;
            }
        }
        match lexicon.get(text).or_else(|| punctuation(text)) {
            Some(entry) => out.push(Classified {
                entry: Some(entry),
                shouted: token.shouted,
            }),
            None if token.han => decompose(lexicon, text, 0, out),
            None => out.push(Classified {
                entry: None,
                shouted: false,
            }),
        }
        i += 1;
    }
}

fn punctuation(text: &str) -> Option<Entry> {
    match text {
        "!" | "！" => Some(Entry::Exclaim),
        "," | "." | ";" | ":" | "?" | "\n" | "，" | "。" | "；" | "：" | "？" | "、" | "…"
        | "~" | "～" => Some(Entry::Boundary),
        _ => None,
    }
}

/// A Chinese compound the segmenter kept whole (很好, 不满意, 太慢了): a
/// degree or negator prefix and a trailing particle around a known word.
fn decompose(lexicon: &Lexicon, text: &str, depth: usize, out: &mut Vec<Classified>) {
    let unknown = Classified {
        entry: None,
        shouted: false,
    };
    let stem = text.trim_end_matches(CHINESE_PARTICLES);
    if stem.is_empty() {
        out.push(unknown);
        return;
    }
    if stem.len() < text.len()
        && let Some(entry) = lexicon.get(stem)
    {
        out.push(Classified {
            entry: Some(entry),
            shouted: false,
        });
        return;
    }
    if depth < 2 {
        for prefix in CHINESE_PREFIXES {
            let Some(rest) = stem.strip_prefix(prefix) else {
                continue;
            };
            if rest.is_empty() {
                continue;
            }
            // 好 as a prefix is the degree word of 好快 ("so fast").
            let prefix_entry = match lexicon.get(prefix) {
                Some(Entry::Word { .. }) | None => Entry::Degree(1.3),
                Some(e) => e,
            };
            let mark = out.len();
            out.push(Classified {
                entry: Some(prefix_entry),
                shouted: false,
            });
            match lexicon.get(rest) {
                Some(entry) => {
                    out.push(Classified {
                        entry: Some(entry),
                        shouted: false,
                    });
                    return;
                }
                None => {
                    decompose(lexicon, rest, depth + 1, out);
                    if out[mark + 1..].iter().any(|c| c.entry.is_some()) {
                        return;
                    }
                    out.truncate(mark);
                }
            }
        }
    }
    out.push(unknown);
}

pub fn combine(entries: &[Classified], items: &mut Vec<Item>) -> Analysis {
    items.clear();
    let mut clause = 0u32;
    let mut negator: Option<usize> = None;
    let mut negated_degree: Option<usize> = None;
    let mut degree: Option<(usize, f32)> = None;
    let mut weight_after = 1.0f32;
    let mut segment_start = 0usize;
    let mut conceding = false;
    let mut exclaims = 0usize;
    let mut nouns: Vec<(u32, u32, Aspect, f32)> = Vec::new();

    for (position, classified) in entries.iter().enumerate() {
        let Some(entry) = classified.entry else {
            continue;
        };
        match entry {
            Entry::Boundary | Entry::Exclaim => {
                if entry == Entry::Exclaim {
                    exclaims += 1;
                }
                clause += 1;
                negator = None;
                negated_degree = None;
                degree = None;
                if conceding {
                    conceding = false;
                    weight_after = 1.5;
                    segment_start = items.len();
                }
            }
            Entry::Contrast => {
                for item in &mut items[segment_start..] {
                    if !item.conceded {
                        item.weight *= 0.5;
                    }
                }
                segment_start = items.len();
                weight_after = 1.5;
                conceding = false;
                clause += 1;
                negator = None;
                negated_degree = None;
                degree = None;
            }
            Entry::Concession => {
                conceding = true;
            }
            Entry::Negator => negator = Some(position),
            Entry::Degree(m) => {
                if negator.is_some_and(|n| n + 1 == position) {
                    negated_degree = Some(position);
                    negator = None;
                } else {
                    degree = Some((position, m));
                }
            }
            Entry::Noun { aspect, high } => {
                nouns.push((clause, position as u32, aspect, high));
            }
            Entry::Word { .. } | Entry::Scalar(_) => {
                let (mut value, implied, scalar) = match entry {
                    Entry::Word { valence, aspect } => (valence, aspect, false),
                    Entry::Scalar(direction) => (direction, None, true),
                    _ => (0.0, None, false),
                };
                if let Some((at, m)) = degree
                    && position - at <= DEGREE_WINDOW
                {
                    value *= m;
                }
                if let Some(at) = negated_degree
                    && position - at <= DEGREE_WINDOW
                {
                    value *= NEGATED_DEGREE;
                } else if let Some(at) = negator
                    && position - at <= NEGATION_WINDOW
                {
                    value *= NEGATION;
                }
                if classified.shouted {
                    value *= SHOUTED;
                }
                items.push(Item {
                    value,
                    weight: if conceding { 0.5 } else { weight_after },
                    clause,
                    position: position as u32,
                    implied,
                    conceded: conceding,
                    scalar,
                    noun: None,
                });
                negator = None;
                negated_degree = None;
                degree = None;
            }
        }
    }

    // Each word speaks of the nearest aspect noun in its clause.
    for item in items.iter_mut() {
        item.noun = nouns
            .iter()
            .filter(|(c, ..)| *c == item.clause)
            .min_by_key(|(_, p, ..)| p.abs_diff(item.position))
            .map(|(_, _, aspect, high)| (*aspect, *high));
        if item.scalar {
            item.value *= item.noun.map_or(0.0, |(_, high)| high);
        }
    }

    let total: f64 = items.iter().map(|i| f64::from(i.value * i.weight)).sum();
    let emphasis = EXCLAIM * exclaims.min(MAX_EXCLAIMS) as f64;
    let total = if total > 0.0 {
        total + emphasis
    } else if total < 0.0 {
        total - emphasis
    } else {
        0.0
    };

    let mut aspects = [None; 6];
    for (_, _, aspect, _) in &nouns {
        aspects[*aspect as usize] = Some(0.0);
    }
    for item in items.iter() {
        if let Some(aspect) = item.noun.map(|(a, _)| a).or(item.implied) {
            let sum = aspects[aspect as usize].get_or_insert(0.0);
            *sum += f64::from(item.value * item.weight);
        }
    }
    for sum in aspects.iter_mut().flatten() {
        *sum = normalise(*sum);
    }
    Analysis {
        score: normalise(total),
        aspects,
    }
}

fn normalise(s: f64) -> f64 {
    if s.is_finite() {
        s / (s * s + ALPHA).sqrt()
    } else {
        s.signum()
    }
}
