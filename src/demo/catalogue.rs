//! Categories and items of the demo shop, with latent item factors.

use rand::Rng;

use super::sample::{lognormal, normal};

/// Dimension of the latent taste space users and items live in.
pub const FACTORS: usize = 8;

pub struct Category {
    pub name: &'static str,
    pub name_zh: &'static str,
    pub weight: f64,
    /// Median item price in the shop's currency.
    pub median_price: f64,
    pub brands: &'static [(&'static str, &'static str)],
    pub nouns: &'static [(&'static str, &'static str)],
}

const ADJECTIVES: &[(&str, &str)] = &[
    ("Classic", "经典"),
    ("Premium", "高端"),
    ("Compact", "小巧"),
    ("Wireless", "无线"),
    ("Eco", "环保"),
    ("Pro", "专业"),
    ("Lite", "轻便"),
    ("Deluxe", "豪华"),
    ("Smart", "智能"),
    ("Everyday", "日常"),
];

pub const CATEGORIES: &[Category] = &[
    Category {
        name: "electronics",
        name_zh: "数码电子",
        weight: 0.18,
        median_price: 89.0,
        brands: &[("Voltix", "沃特"), ("Nimbus", "云朵"), ("Kestrel", "隼")],
        nouns: &[
            ("Earbuds", "蓝牙耳机"),
            ("Power Bank", "充电宝"),
            ("Smartwatch", "智能手表"),
            ("Keyboard", "键盘"),
            ("Speaker", "音箱"),
        ],
    },
    Category {
        name: "home_kitchen",
        name_zh: "家居厨房",
        weight: 0.15,
        median_price: 35.0,
        brands: &[("Hearth", "炉边"), ("Maple", "枫叶"), ("Zenware", "禅器")],
        nouns: &[
            ("Pan", "炒锅"),
            ("Kettle", "电水壶"),
            ("Storage Box", "收纳盒"),
            ("Knife Set", "刀具套装"),
            ("Blender", "榨汁机"),
        ],
    },
    Category {
        name: "beauty",
        name_zh: "美妆个护",
        weight: 0.13,
        median_price: 22.0,
        brands: &[("Lumina", "光采"), ("Petal", "花瓣"), ("Aqua", "水漾")],
        nouns: &[
            ("Face Cream", "面霜"),
            ("Lipstick", "口红"),
            ("Serum", "精华液"),
            ("Sunscreen", "防晒霜"),
            ("Shampoo", "洗发水"),
        ],
    },
    Category {
        name: "apparel",
        name_zh: "服装鞋包",
        weight: 0.17,
        median_price: 40.0,
        brands: &[
            ("Northway", "北途"),
            ("Silk Road", "丝路"),
            ("Urbano", "都市"),
        ],
        nouns: &[
            ("T-Shirt", "T恤"),
            ("Jeans", "牛仔裤"),
            ("Sneakers", "运动鞋"),
            ("Jacket", "夹克"),
            ("Backpack", "双肩包"),
        ],
    },
    Category {
        name: "sports",
        name_zh: "运动户外",
        weight: 0.1,
        median_price: 45.0,
        brands: &[("Summit", "峰顶"), ("Stride", "步跃"), ("Tidal", "潮汐")],
        nouns: &[
            ("Yoga Mat", "瑜伽垫"),
            ("Water Bottle", "运动水壶"),
            ("Tent", "帐篷"),
            ("Dumbbells", "哑铃"),
            ("Cycling Gloves", "骑行手套"),
        ],
    },
    Category {
        name: "books",
        name_zh: "图书",
        weight: 0.09,
        median_price: 15.0,
        brands: &[("Inkwell", "墨池"), ("Lantern", "灯笼")],
        nouns: &[
            ("Cookbook", "菜谱"),
            ("Novel", "小说"),
            ("Travel Guide", "旅行指南"),
            ("Notebook", "笔记本"),
        ],
    },
    Category {
        name: "toys",
        name_zh: "玩具",
        weight: 0.08,
        median_price: 25.0,
        brands: &[("Jolly", "乐趣"), ("Bricko", "积木王")],
        nouns: &[
            ("Building Blocks", "积木"),
            ("Puzzle", "拼图"),
            ("Plush Bear", "毛绒熊"),
            ("RC Car", "遥控车"),
        ],
    },
    Category {
        name: "grocery",
        name_zh: "食品生鲜",
        weight: 0.1,
        median_price: 9.0,
        brands: &[("Harvest", "丰收"), ("Green Valley", "绿谷")],
        nouns: &[
            ("Green Tea", "绿茶"),
            ("Coffee Beans", "咖啡豆"),
            ("Mixed Nuts", "坚果"),
            ("Olive Oil", "橄榄油"),
        ],
    },
];

/// One generated item.
pub struct Item {
    pub id: i64,
    pub category: usize,
    pub title: String,
    pub title_zh: String,
    pub brand: &'static str,
    pub price_cents: i64,
    pub launch_day: i32,
    /// Popularity on the log scale: how often the item is shown at all.
    pub log_popularity: f64,
    pub factors: [f64; FACTORS],
}

/// Each category has a centre in taste space; items and users near it like it.
pub fn category_centres<R: Rng>(rng: &mut R) -> Vec<[f64; FACTORS]> {
    CATEGORIES
        .iter()
        .map(|_| std::array::from_fn(|_| normal(rng, 0.0, 1.0)))
        .collect()
}

pub fn generate_items<R: Rng>(
    rng: &mut R,
    count: u64,
    centres: &[[f64; FACTORS]],
    first_day: i32,
) -> Vec<Item> {
    let weights: Vec<f64> = CATEGORIES.iter().map(|c| c.weight).collect();
    (1..=count as i64)
        .map(|id| {
            let category = pick_weighted(rng, &weights);
            let c = &CATEGORIES[category];
            let (brand, brand_zh) = c.brands[rng.random_range(0..c.brands.len())];
            let (noun, noun_zh) = c.nouns[rng.random_range(0..c.nouns.len())];
            let (adj, adj_zh) = ADJECTIVES[rng.random_range(0..ADJECTIVES.len())];
            let model = rng.random_range(1..=9);
            // Prices end in .99 like shop prices do.
            let price = lognormal(rng, c.median_price, 0.45).max(1.0).floor() + 0.99;
            let factors =
                std::array::from_fn(|k| centres[category][k] * 0.8 + normal(rng, 0.0, 0.6));
            Item {
                id,
                category,
                title: format!("{brand} {adj} {noun} {model}"),
                title_zh: format!("{brand_zh}{adj_zh}{noun_zh} {model}代"),
                brand,
                price_cents: (price * 100.0).round() as i64,
                launch_day: first_day - rng.random_range(0..730),
                log_popularity: normal(rng, 0.0, 1.0),
                factors,
            }
        })
        .collect()
}

/// Index drawn with probability proportional to `weights`.
pub fn pick_weighted<R: Rng>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}
