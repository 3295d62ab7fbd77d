//! ecomsql's own sentiment lexicon for product reviews, English and Chinese.
//!
//! Written for this project (no third-party word list): valences run from
//! about −3.5 (scam, 垃圾) to +3.5 (outstanding, 完美), chosen for how
//! the word reads in a shop review rather than in general text ("cheap"
//! reads as flimsy, "fast" as quick delivery). A word may imply an aspect,
//! used when its clause names none.
//!
//! Besides valenced words the table holds the words that change others:
//! negators, degree words (intensifiers above 1, dampeners below), contrast
//! and concession words, and aspect nouns. Multi-word English phrases are
//! matched on whole tokens before single words.

use std::collections::HashMap;

use super::Aspect;

/// What one token (or phrase) means to the scorer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entry {
    /// A valenced word, and the aspect it speaks of when its clause names none.
    Word {
        valence: f32,
        aspect: Option<Aspect>,
    },
    /// Flips (and softens) the next valenced word within three tokens.
    Negator,
    /// Scales the next valenced word within two tokens.
    Degree(f32),
    /// "but", "但是": what comes before counts half, what follows 1.5 times.
    Contrast,
    /// "although", "虽然": its own clause counts half, what follows 1.5 times.
    Concession,
    /// An aspect noun; `high` is the valence of "high"/"高" said of it
    /// (high quality is good, a high price is not).
    Noun { aspect: Aspect, high: f32 },
    /// "high" (+1) or "low" (−1): valenced only through an aspect noun.
    Scalar(f32),
    /// End of a clause (, . ; ? and their Chinese forms, line breaks).
    Boundary,
    /// "!" or "！": ends a clause and adds emphasis.
    Exclaim,
}

use Aspect::{Delivery, Fit, Packaging, Price, Quality, Service};

const fn w(valence: f32) -> Entry {
    Entry::Word {
        valence,
        aspect: None,
    }
}

const fn a(valence: f32, aspect: Aspect) -> Entry {
    Entry::Word {
        valence,
        aspect: Some(aspect),
    }
}

const fn noun(aspect: Aspect, high: f32) -> Entry {
    Entry::Noun { aspect, high }
}

/// English single words (lower case; apostrophes kept).
const ENGLISH: &[(&str, Entry)] = &[
    // Praise.
    ("great", w(3.0)),
    ("excellent", w(3.2)),
    ("amazing", w(3.2)),
    ("awesome", w(3.1)),
    ("fantastic", w(3.2)),
    ("outstanding", w(3.3)),
    ("superb", w(3.1)),
    ("brilliant", w(3.0)),
    ("wonderful", w(3.1)),
    ("perfect", w(3.0)),
    ("perfectly", w(2.6)),
    ("flawless", w(3.0)),
    ("best", w(3.0)),
    ("love", w(3.0)),
    ("loved", w(3.0)),
    ("loves", w(2.8)),
    ("loving", w(2.6)),
    ("good", w(1.9)),
    ("nice", w(1.8)),
    ("fine", w(0.8)),
    ("decent", w(1.1)),
    ("ok", w(0.4)),
    ("okay", w(0.4)),
    ("happy", w(2.2)),
    ("pleased", w(2.0)),
    ("satisfied", w(1.9)),
    ("impressed", w(2.3)),
    ("glad", w(2.0)),
    ("enjoy", w(2.0)),
    ("enjoyed", w(2.0)),
    ("favourite", w(2.3)),
    ("favorite", w(2.3)),
    ("recommend", w(1.8)),
    ("recommended", w(1.8)),
    ("thanks", w(1.4)),
    ("thank", w(1.4)),
    ("beautiful", w(2.6)),
    ("gorgeous", w(2.8)),
    ("lovely", w(2.5)),
    ("cute", w(1.8)),
    ("stylish", w(1.8)),
    ("elegant", w(2.0)),
    ("easy", w(1.4)),
    ("convenient", w(1.6)),
    ("useful", w(1.6)),
    ("handy", w(1.5)),
    ("smooth", w(1.3)),
    ("delicious", w(2.5)),
    ("tasty", w(2.2)),
    ("fresh", w(1.2)),
    ("works", w(1.2)),
    ("exceeded", w(2.0)),
    ("genuine", a(1.6, Quality)),
    ("authentic", a(1.6, Quality)),
    ("solid", a(1.6, Quality)),
    ("sturdy", a(1.7, Quality)),
    ("durable", a(1.8, Quality)),
    ("reliable", a(1.8, Quality)),
    ("premium", a(1.8, Quality)),
    ("fast", a(1.6, Delivery)),
    ("quick", a(1.5, Delivery)),
    ("quickly", a(1.4, Delivery)),
    ("speedy", a(1.6, Delivery)),
    ("prompt", a(1.5, Delivery)),
    ("early", a(1.3, Delivery)),
    ("helpful", a(1.9, Service)),
    ("friendly", a(1.8, Service)),
    ("responsive", a(1.6, Service)),
    ("polite", a(1.5, Service)),
    ("courteous", a(1.6, Service)),
    ("professional", a(1.5, Service)),
    ("neat", a(1.3, Packaging)),
    ("careful", a(1.2, Packaging)),
    ("carefully", a(1.2, Packaging)),
    ("comfortable", a(1.9, Fit)),
    ("comfy", a(1.9, Fit)),
    ("worth", a(1.6, Price)),
    ("bargain", a(2.0, Price)),
    ("affordable", a(1.5, Price)),
    ("fair", a(0.9, Price)),
    ("inexpensive", a(1.3, Price)),
    // Complaints.
    ("bad", w(-2.5)),
    ("terrible", w(-3.2)),
    ("awful", w(-3.2)),
    ("horrible", w(-3.2)),
    ("dreadful", w(-3.0)),
    ("worst", w(-3.4)),
    ("poor", w(-2.3)),
    ("poorly", w(-2.2)),
    ("hate", w(-3.0)),
    ("hated", w(-3.0)),
    ("disappointed", w(-2.5)),
    ("disappointing", w(-2.5)),
    ("disappointment", w(-2.5)),
    ("unhappy", w(-2.2)),
    ("useless", w(-2.8)),
    ("waste", w(-2.5)),
    ("wasted", w(-2.4)),
    ("junk", w(-2.8)),
    ("garbage", w(-3.0)),
    ("rubbish", w(-2.8)),
    ("trash", w(-2.8)),
    ("scam", w(-3.5)),
    ("fake", a(-2.8, Quality)),
    ("counterfeit", a(-3.0, Quality)),
    ("avoid", w(-2.3)),
    ("annoying", w(-2.0)),
    ("frustrating", w(-2.2)),
    ("problem", w(-1.4)),
    ("problems", w(-1.4)),
    ("issue", w(-1.1)),
    ("issues", w(-1.1)),
    ("complaint", w(-1.4)),
    ("complaints", w(-1.4)),
    ("wrong", w(-1.8)),
    ("missing", w(-1.8)),
    ("fail", w(-2.2)),
    ("failed", w(-2.2)),
    ("fails", w(-2.1)),
    ("regret", w(-2.4)),
    ("refund", w(-1.2)),
    ("returned", w(-1.1)),
    ("returning", w(-1.1)),
    ("smelly", w(-2.0)),
    ("stinks", w(-2.2)),
    ("noisy", w(-1.4)),
    ("ugly", w(-2.3)),
    ("difficult", w(-1.2)),
    ("cheap", a(-1.2, Quality)),
    ("flimsy", a(-2.0, Quality)),
    ("broken", a(-2.6, Quality)),
    ("broke", a(-2.4, Quality)),
    ("breaks", a(-2.3, Quality)),
    ("defective", a(-2.8, Quality)),
    ("faulty", a(-2.6, Quality)),
    ("cracked", a(-2.0, Quality)),
    ("leaks", a(-2.0, Quality)),
    ("leaking", a(-2.0, Quality)),
    ("slow", a(-1.6, Delivery)),
    ("late", a(-1.7, Delivery)),
    ("delayed", a(-1.6, Delivery)),
    ("lost", a(-1.6, Delivery)),
    ("rude", a(-2.4, Service)),
    ("unhelpful", a(-2.1, Service)),
    ("unprofessional", a(-2.1, Service)),
    ("ignored", a(-1.9, Service)),
    ("damaged", a(-2.4, Packaging)),
    ("dented", a(-1.8, Packaging)),
    ("crushed", a(-2.0, Packaging)),
    ("sloppy", a(-1.8, Packaging)),
    ("tight", a(-1.0, Fit)),
    ("loose", a(-0.8, Fit)),
    ("awkward", a(-1.3, Fit)),
    ("uncomfortable", a(-2.0, Fit)),
    ("itchy", a(-1.5, Fit)),
    ("overpriced", a(-2.1, Price)),
    ("expensive", a(-1.0, Price)),
    ("pricey", a(-0.9, Price)),
    ("ripoff", a(-3.0, Price)),
    // Negators.
    ("not", Entry::Negator),
    ("no", Entry::Negator),
    ("never", Entry::Negator),
    ("none", Entry::Negator),
    ("nothing", Entry::Negator),
    ("nobody", Entry::Negator),
    ("neither", Entry::Negator),
    ("nor", Entry::Negator),
    ("without", Entry::Negator),
    ("hardly", Entry::Negator),
    ("barely", Entry::Negator),
    ("cannot", Entry::Negator),
    ("can't", Entry::Negator),
    ("cant", Entry::Negator),
    ("don't", Entry::Negator),
    ("dont", Entry::Negator),
    ("doesn't", Entry::Negator),
    ("doesnt", Entry::Negator),
    ("didn't", Entry::Negator),
    ("didnt", Entry::Negator),
    ("isn't", Entry::Negator),
    ("isnt", Entry::Negator),
    ("wasn't", Entry::Negator),
    ("wasnt", Entry::Negator),
    ("aren't", Entry::Negator),
    ("weren't", Entry::Negator),
    ("won't", Entry::Negator),
    ("wont", Entry::Negator),
    ("wouldn't", Entry::Negator),
    ("wouldnt", Entry::Negator),
    ("shouldn't", Entry::Negator),
    ("couldn't", Entry::Negator),
    ("haven't", Entry::Negator),
    ("hasn't", Entry::Negator),
    ("hadn't", Entry::Negator),
    ("ain't", Entry::Negator),
    // Intensifiers and dampeners.
    ("very", Entry::Degree(1.3)),
    ("really", Entry::Degree(1.3)),
    ("so", Entry::Degree(1.25)),
    ("too", Entry::Degree(1.2)),
    ("extremely", Entry::Degree(1.5)),
    ("incredibly", Entry::Degree(1.5)),
    ("exceptionally", Entry::Degree(1.5)),
    ("utterly", Entry::Degree(1.5)),
    ("absolutely", Entry::Degree(1.4)),
    ("highly", Entry::Degree(1.4)),
    ("super", Entry::Degree(1.35)),
    ("completely", Entry::Degree(1.35)),
    ("totally", Entry::Degree(1.3)),
    ("truly", Entry::Degree(1.3)),
    ("most", Entry::Degree(1.3)),
    ("pretty", Entry::Degree(1.1)),
    ("quite", Entry::Degree(1.1)),
    ("fairly", Entry::Degree(0.8)),
    ("rather", Entry::Degree(0.8)),
    ("reasonably", Entry::Degree(0.85)),
    ("somewhat", Entry::Degree(0.6)),
    ("slightly", Entry::Degree(0.55)),
    ("mildly", Entry::Degree(0.6)),
    ("marginally", Entry::Degree(0.5)),
    ("kinda", Entry::Degree(0.6)),
    // Contrast and concession.
    ("but", Entry::Contrast),
    ("however", Entry::Contrast),
    ("yet", Entry::Contrast),
    ("nevertheless", Entry::Contrast),
    ("although", Entry::Concession),
    ("though", Entry::Concession),
    ("despite", Entry::Concession),
    // Aspect nouns.
    ("quality", noun(Quality, 2.0)),
    ("material", noun(Quality, 0.0)),
    ("materials", noun(Quality, 0.0)),
    ("build", noun(Quality, 2.0)),
    ("made", noun(Quality, 0.0)),
    ("craftsmanship", noun(Quality, 0.0)),
    ("stitching", noun(Quality, 0.0)),
    ("fabric", noun(Quality, 0.0)),
    ("durability", noun(Quality, 2.0)),
    ("price", noun(Price, -1.5)),
    ("prices", noun(Price, -1.5)),
    ("priced", noun(Price, -1.5)),
    ("cost", noun(Price, -1.5)),
    ("value", noun(Price, 2.0)),
    ("money", noun(Price, 0.0)),
    ("deal", noun(Price, 0.0)),
    ("delivery", noun(Delivery, 0.0)),
    ("shipping", noun(Delivery, -1.0)),
    ("shipped", noun(Delivery, 0.0)),
    ("arrived", noun(Delivery, 0.0)),
    ("arrival", noun(Delivery, 0.0)),
    ("courier", noun(Delivery, 0.0)),
    ("dispatch", noun(Delivery, 0.0)),
    ("delivered", noun(Delivery, 0.0)),
    ("logistics", noun(Delivery, 0.0)),
    ("service", noun(Service, 0.0)),
    ("seller", noun(Service, 0.0)),
    ("support", noun(Service, 0.0)),
    ("staff", noun(Service, 0.0)),
    ("vendor", noun(Service, 0.0)),
    ("communication", noun(Service, 0.0)),
    ("packaging", noun(Packaging, 0.0)),
    ("package", noun(Packaging, 0.0)),
    ("packaged", noun(Packaging, 0.0)),
    ("packed", noun(Packaging, 0.0)),
    ("box", noun(Packaging, 0.0)),
    ("wrapping", noun(Packaging, 0.0)),
    ("wrapped", noun(Packaging, 0.0)),
    ("parcel", noun(Packaging, 0.0)),
    ("fit", noun(Fit, 0.0)),
    ("fits", noun(Fit, 0.0)),
    ("size", noun(Fit, 0.0)),
    ("sizing", noun(Fit, 0.0)),
    // Scalars.
    ("high", Entry::Scalar(1.0)),
    ("higher", Entry::Scalar(1.0)),
    ("low", Entry::Scalar(-1.0)),
    ("lower", Entry::Scalar(-1.0)),
];

/// English phrases, matched on whole lower-case tokens before single words.
const ENGLISH_PHRASES: &[(&[&str], Entry)] = &[
    (&["no", "complaints"], w(2.0)),
    (&["no", "problems"], w(1.8)),
    (&["no", "issues"], w(1.8)),
    (&["never", "again"], w(-2.4)),
    (&["buy", "again"], w(1.9)),
    (&["order", "again"], w(1.9)),
    (&["purchase", "again"], w(1.9)),
    (&["stopped", "working"], a(-2.6, Quality)),
    (&["fell", "apart"], a(-2.7, Quality)),
    (&["falls", "apart"], a(-2.7, Quality)),
    (&["didn't", "work"], a(-2.4, Quality)),
    (&["doesn't", "work"], a(-2.4, Quality)),
    (&["does", "not", "work"], a(-2.4, Quality)),
    (&["did", "not", "work"], a(-2.4, Quality)),
    (&["not", "working"], a(-2.4, Quality)),
    (&["as", "described"], w(1.5)),
    (&["as", "advertised"], w(1.5)),
    (&["as", "expected"], w(1.0)),
    (&["value", "for", "money"], a(2.0, Price)),
    (&["waste", "of", "money"], a(-3.0, Price)),
    (&["rip", "off"], a(-3.0, Price)),
    (&["money", "back"], w(-1.2)),
    (&["five", "stars"], w(2.6)),
    (&["5", "stars"], w(2.6)),
    (&["one", "star"], w(-2.4)),
    (&["1", "star"], w(-2.4)),
    (&["too", "small"], a(-1.4, Fit)),
    (&["too", "big"], a(-1.4, Fit)),
    (&["too", "large"], a(-1.4, Fit)),
    (&["too", "tight"], a(-1.6, Fit)),
    (&["too", "loose"], a(-1.4, Fit)),
    (&["too", "short"], a(-1.3, Fit)),
    (&["too", "long"], a(-1.1, Fit)),
    (&["runs", "small"], a(-1.1, Fit)),
    (&["runs", "large"], a(-1.1, Fit)),
    (&["true", "to", "size"], a(1.8, Fit)),
    (&["a", "bit"], Entry::Degree(0.6)),
    (&["a", "little"], Entry::Degree(0.6)),
    (&["kind", "of"], Entry::Degree(0.6)),
    (&["sort", "of"], Entry::Degree(0.6)),
    (&["even", "though"], Entry::Concession),
    (&["customer", "service"], noun(Service, 0.0)),
    (&["build", "quality"], noun(Quality, 2.0)),
];

/// Chinese words. Segmentation keeps each of them whole (they are added to
/// the segmenter's dictionary); compounds jieba knows (很好, 不满意, 太慢了)
/// are split again into degree/negator + word + particle when looked up.
const CHINESE: &[(&str, Entry)] = &[
    // Praise.
    ("好", w(2.0)),
    ("不错", w(2.0)),
    ("满意", w(2.2)),
    ("喜欢", w(2.3)),
    ("推荐", w(1.8)),
    ("好评", w(2.6)),
    ("完美", w(3.0)),
    ("优秀", w(2.5)),
    ("棒", w(2.6)),
    ("赞", w(2.4)),
    ("惊喜", w(2.4)),
    ("漂亮", w(2.2)),
    ("好看", w(2.0)),
    ("美观", w(1.8)),
    ("精致", w(2.0)),
    ("时尚", w(1.5)),
    ("好用", w(2.0)),
    ("方便", w(1.6)),
    ("实用", w(1.6)),
    ("好吃", w(2.2)),
    ("新鲜", w(1.6)),
    ("清晰", w(1.4)),
    ("流畅", w(1.5)),
    ("放心", w(1.8)),
    ("靠谱", w(2.0)),
    ("一致", w(1.2)),
    ("回购", w(1.9)),
    ("值得", w(1.8)),
    ("和描述一致", w(1.8)),
    ("正品", a(1.8, Quality)),
    ("过硬", a(1.9, Quality)),
    ("结实", a(1.7, Quality)),
    ("耐用", a(1.8, Quality)),
    ("牢固", a(1.7, Quality)),
    ("柔软", a(1.4, Quality)),
    ("实惠", a(1.8, Price)),
    ("划算", a(1.9, Price)),
    ("便宜", a(1.0, Price)),
    ("超值", a(2.4, Price)),
    ("物美价廉", a(2.6, Price)),
    ("物超所值", a(2.8, Price)),
    ("值", a(1.5, Price)),
    ("快", a(1.5, Delivery)),
    ("迅速", a(1.6, Delivery)),
    ("及时", a(1.4, Delivery)),
    ("给力", w(2.2)),
    ("热情", a(1.8, Service)),
    ("耐心", a(1.6, Service)),
    ("周到", a(1.8, Service)),
    ("专业", a(1.5, Service)),
    ("完好", a(1.6, Packaging)),
    ("精美", a(2.2, Packaging)),
    ("严实", a(1.5, Packaging)),
    ("舒服", a(2.0, Fit)),
    ("舒适", a(2.0, Fit)),
    ("合适", a(1.6, Fit)),
    ("合身", a(1.8, Fit)),
    ("标准", a(1.0, Fit)),
    // Complaints.
    ("差", w(-2.3)),
    ("一般", w(-0.8)),
    ("差评", w(-2.8)),
    ("差劲", w(-2.6)),
    ("失望", w(-2.5)),
    ("糟糕", w(-3.0)),
    ("垃圾", w(-3.2)),
    ("后悔", w(-2.4)),
    ("上当", w(-2.6)),
    ("骗人", w(-2.8)),
    ("欺骗", w(-2.8)),
    ("坑", w(-2.2)),
    ("无语", w(-2.0)),
    ("郁闷", w(-1.8)),
    ("生气", w(-2.2)),
    ("难用", w(-2.0)),
    ("难看", w(-2.0)),
    ("难吃", w(-2.2)),
    ("没用", w(-1.8)),
    ("麻烦", w(-1.2)),
    ("问题", w(-1.2)),
    ("毛病", w(-1.6)),
    ("退货", w(-1.8)),
    ("退款", w(-1.4)),
    ("要退货", w(-2.2)),
    ("再也不买了", w(-2.8)),
    ("再也不买", w(-2.8)),
    ("异味", w(-1.8)),
    ("臭", w(-2.0)),
    ("坏", a(-2.2, Quality)),
    ("用了一周就坏了", a(-2.6, Quality)),
    ("假货", a(-3.0, Quality)),
    ("劣质", a(-2.8, Quality)),
    ("粗糙", a(-2.0, Quality)),
    ("瑕疵", a(-1.6, Quality)),
    ("掉色", a(-2.2, Quality)),
    ("色差", a(-1.6, Quality)),
    ("有色差", a(-1.6, Quality)),
    ("起球", a(-1.8, Quality)),
    ("开线", a(-1.8, Quality)),
    ("变形", a(-1.8, Quality)),
    ("贵", a(-1.0, Price)),
    ("慢", a(-1.6, Delivery)),
    ("延迟", a(-1.4, Delivery)),
    ("冷淡", a(-1.8, Service)),
    ("敷衍", a(-2.0, Service)),
    ("恶劣", a(-2.8, Service)),
    ("破损", a(-2.2, Packaging)),
    ("简陋", a(-1.6, Packaging)),
    ("偏小", a(-1.3, Fit)),
    ("偏大", a(-1.3, Fit)),
    ("不合身", a(-1.8, Fit)),
    // Negators.
    ("不", Entry::Negator),
    ("没", Entry::Negator),
    ("没有", Entry::Negator),
    ("别", Entry::Negator),
    ("无", Entry::Negator),
    ("未", Entry::Negator),
    ("不是", Entry::Negator),
    ("并不", Entry::Negator),
    ("毫无", Entry::Negator),
    ("从不", Entry::Negator),
    ("绝不", Entry::Negator),
    // Degree words.
    ("很", Entry::Degree(1.3)),
    ("非常", Entry::Degree(1.5)),
    ("太", Entry::Degree(1.5)),
    ("特别", Entry::Degree(1.5)),
    ("十分", Entry::Degree(1.5)),
    ("超", Entry::Degree(1.4)),
    ("超级", Entry::Degree(1.6)),
    ("极其", Entry::Degree(1.7)),
    ("极", Entry::Degree(1.6)),
    ("相当", Entry::Degree(1.4)),
    ("真", Entry::Degree(1.3)),
    ("真的", Entry::Degree(1.3)),
    ("挺", Entry::Degree(1.2)),
    ("蛮", Entry::Degree(1.2)),
    ("更", Entry::Degree(1.2)),
    ("最", Entry::Degree(1.6)),
    ("比较", Entry::Degree(1.1)),
    ("有点", Entry::Degree(0.6)),
    ("有点儿", Entry::Degree(0.6)),
    ("有些", Entry::Degree(0.65)),
    ("稍微", Entry::Degree(0.5)),
    ("稍", Entry::Degree(0.55)),
    ("略", Entry::Degree(0.6)),
    ("略微", Entry::Degree(0.5)),
    // Contrast and concession.
    ("但是", Entry::Contrast),
    ("但", Entry::Contrast),
    ("不过", Entry::Contrast),
    ("可是", Entry::Contrast),
    ("然而", Entry::Contrast),
    ("却", Entry::Contrast),
    ("虽然", Entry::Concession),
    ("尽管", Entry::Concession),
    // Aspect nouns.
    ("质量", noun(Quality, 2.0)),
    ("品质", noun(Quality, 2.0)),
    ("做工", noun(Quality, 0.0)),
    ("材质", noun(Quality, 0.0)),
    ("面料", noun(Quality, 0.0)),
    ("用料", noun(Quality, 0.0)),
    ("手感", noun(Quality, 0.0)),
    ("价格", noun(Price, -1.5)),
    ("价钱", noun(Price, -1.5)),
    ("价位", noun(Price, -1.5)),
    ("性价比", noun(Price, 2.0)),
    ("物流", noun(Delivery, 0.0)),
    ("快递", noun(Delivery, 0.0)),
    ("发货", noun(Delivery, 0.0)),
    ("送货", noun(Delivery, 0.0)),
    ("配送", noun(Delivery, 0.0)),
    ("到货", noun(Delivery, 0.0)),
    ("客服", noun(Service, 0.0)),
    ("服务", noun(Service, 0.0)),
    ("态度", noun(Service, 0.0)),
    ("客服态度", noun(Service, 0.0)),
    ("服务态度", noun(Service, 0.0)),
    ("卖家", noun(Service, 0.0)),
    ("商家", noun(Service, 0.0)),
    ("售后", noun(Service, 0.0)),
    ("包装", noun(Packaging, 0.0)),
    ("外包装", noun(Packaging, 0.0)),
    ("盒子", noun(Packaging, 0.0)),
    ("尺码", noun(Fit, 0.0)),
    ("尺寸", noun(Fit, 0.0)),
    ("码数", noun(Fit, 0.0)),
    ("大小", noun(Fit, 0.0)),
    ("版型", noun(Fit, 0.0)),
    // Scalars.
    ("高", Entry::Scalar(1.0)),
    ("低", Entry::Scalar(-1.0)),
];

/// Degree and negator prefixes, and sentence-final particles, that jieba
/// may leave attached to a word (很好, 不满意, 太慢了).
pub const CHINESE_PREFIXES: &[&str] = &[
    "非常", "特别", "十分", "超级", "有点", "稍微", "比较", "没有", "并不", "不", "没", "很", "太",
    "超", "挺", "真", "蛮", "最", "更", "无", "好",
];
pub const CHINESE_PARTICLES: &[char] =
    &['了', '的', '啊', '呀', '啦', '哦', '吧', '呢', '哈', '喔'];

/// Emoji and emoticons.
const EMOJI: &[(&str, Entry)] = &[
    ("😍", w(3.0)),
    ("🥰", w(3.0)),
    ("❤", w(2.8)),
    ("💕", w(2.6)),
    ("😊", w(2.2)),
    ("🙂", w(1.4)),
    ("😀", w(2.2)),
    ("😃", w(2.2)),
    ("😄", w(2.3)),
    ("😁", w(2.2)),
    ("😆", w(2.0)),
    ("🤩", w(3.0)),
    ("👍", w(2.2)),
    ("👏", w(2.2)),
    ("💯", w(2.4)),
    ("🔥", w(1.8)),
    ("🎉", w(2.0)),
    ("⭐", w(1.2)),
    ("🌟", w(1.6)),
    ("✨", w(1.2)),
    ("😂", w(1.0)),
    ("😐", w(-0.4)),
    ("😕", w(-1.4)),
    ("🙁", w(-1.8)),
    ("☹", w(-2.0)),
    ("😞", w(-2.2)),
    ("😔", w(-2.0)),
    ("😢", w(-2.2)),
    ("😭", w(-2.4)),
    ("😒", w(-2.0)),
    ("😤", w(-2.2)),
    ("😠", w(-2.8)),
    ("😡", w(-3.0)),
    ("🤬", w(-3.2)),
    ("🤮", w(-3.0)),
    ("💩", w(-3.0)),
    ("👎", w(-2.4)),
    ("💔", w(-2.4)),
    (":)", w(1.8)),
    (":-)", w(1.8)),
    ("=)", w(1.6)),
    (";)", w(1.4)),
    (":d", w(2.2)),
    (":-d", w(2.2)),
    ("<3", w(2.6)),
    (":(", w(-1.9)),
    (":-(", w(-1.9)),
    (":'(", w(-2.2)),
    (">:(", w(-2.6)),
    (":/", w(-1.0)),
    (":-/", w(-1.0)),
];

/// Emoticons the tokenizer recognises in runs of punctuation, longest first.
pub const EMOTICONS: &[&str] = &[
    ">:(", ":'(", ":-)", ":-(", ":-d", ":-/", ":)", ":(", "=)", ";)", ":d", "<3", ":/",
];

/// The lexicon as lookup tables, built once.
#[derive(Debug)]
pub struct Lexicon {
    words: HashMap<&'static str, Entry, foldhash::fast::FixedState>,
    /// First word → (the rest of the phrase, entry), longest phrases first.
    phrases:
        HashMap<&'static str, Vec<(&'static [&'static str], Entry)>, foldhash::fast::FixedState>,
}

impl Lexicon {
    pub fn new() -> Self {
        let mut words = HashMap::with_hasher(foldhash::fast::FixedState::default());
        for (word, entry) in ENGLISH.iter().chain(CHINESE).chain(EMOJI) {
            words.insert(*word, *entry);
        }
        let mut phrases: HashMap<_, Vec<(&'static [&'static str], Entry)>, _> =
            HashMap::with_hasher(foldhash::fast::FixedState::default());
        for (tokens, entry) in ENGLISH_PHRASES {
            if let Some((first, rest)) = tokens.split_first() {
                phrases.entry(*first).or_default().push((rest, *entry));
            }
        }
        for list in phrases.values_mut() {
            list.sort_by_key(|(rest, _)| std::cmp::Reverse(rest.len()));
        }
        Self { words, phrases }
    }

    pub fn get(&self, token: &str) -> Option<Entry> {
        self.words.get(token).copied()
    }

    pub fn phrases_from(&self, token: &str) -> &[(&'static [&'static str], Entry)] {
        self.phrases.get(token).map_or(&[], Vec::as_slice)
    }

    /// The Chinese words, for the segmenter's dictionary.
    pub fn chinese_words() -> impl Iterator<Item = &'static str> {
        CHINESE.iter().map(|(word, _)| *word)
    }
}

impl Default for Lexicon {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (word, _) in ENGLISH.iter().chain(CHINESE).chain(EMOJI) {
            assert!(seen.insert(*word), "{word} is listed twice");
            assert_eq!(*word, word.to_lowercase(), "{word} must be lower case");
        }
    }

    #[test]
    fn emoticons_are_in_the_table() {
        let lexicon = Lexicon::new();
        for e in EMOTICONS {
            assert!(lexicon.get(e).is_some(), "{e}");
        }
    }
}
