"""Name lists, synthetic identifiers and reference tables for the demo district's seed data.

Everything here is invented: people's names are drawn from common surname/given-name characters, ID numbers
have the real layout (region, birth date, sequence, ISO 7064 MOD 11-2 check digit) so validation code can be
exercised, and phone numbers only look plausible. Kept apart from :mod:`demo_seed` so that module stays short.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from datetime import date
from typing import Any

# The most common Chinese surnames, most frequent first; weights fall off with rank.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤庄"
)
SURNAME_WEIGHTS = tuple(1.0 / (i + 8) for i in range(len(SURNAMES)))
SHUIWEI_SURNAME = "庄"
"""Shuiwei's native villagers are mostly of the Zhuang (庄) lineage; owners there get it more often."""

GIVEN_MALE = "伟强军磊洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林峰建国志文博晨轩睿豪锦坤德荣海生"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀燕玲桂英红梅琳莉雪婷慧颖倩琪欣怡佳萍璐晶月兰洁云琴蓉薇嘉悦诗雨涵思"

# Region codes (first six ID digits) of places that Shenzhen residents commonly come from.
REGIONS_NATIVE = ("440301", "440304")  # Shenzhen (before 1990 no Futian code existed), Futian
REGIONS_GUANGDONG = (
    "440303",
    "440106",
    "440104",
    "445202",
    "445221",
    "441402",
    "441424",
    "440511",
    "440513",
    "441302",
    "441502",
    "440882",
    "440804",
    "441702",
    "440923",
    "441284",
    "445102",
    "441802",
    "440229",
    "441623",
)
REGIONS_OTHER = (
    "430102",
    "431002",
    "430502",
    "430902",
    "360102",
    "360702",
    "360121",
    "450102",
    "450802",
    "451302",
    "420102",
    "421002",
    "421181",
    "510104",
    "511302",
    "500101",
    "350102",
    "350524",
    "410102",
    "411302",
    "412702",
    "340102",
    "341202",
    "320102",
    "220102",
    "230102",
    "370102",
    "610102",
    "530102",
    "460105",
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_MOBILE_PREFIXES = tuple(
    str(p)
    for p in (
        *range(130, 140),
        *range(150, 154),
        *range(155, 160),
        166,
        176,
        177,
        178,
        *range(180, 190),
        198,
        199,
    )
)

# Shop names: a friendly prefix + a category-specific suffix.
SHOP_PREFIXES = (
    "鑫鑫",
    "好运",
    "佳佳",
    "阿强",
    "福满",
    "客家",
    "潮汕",
    "川湘",
    "老庄",
    "水围",
    "金鑫",
    "百佳",
    "美美",
    "新时代",
    "顺发",
    "恒通",
    "兴旺",
    "宏达",
    "如意",
    "吉祥",
    "万家",
    "惠民",
    "乐购",
    "阿华",
    "小李",
    "港湾",
    "南粤",
    "湘里",
    "好邻居",
    "益民",
    "同福",
    "华兴",
    "永丰",
    "明珠",
    "金桥",
    "喜来",
    "红运",
    "和顺",
)
CATEGORY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "便利店": ("便利店", "士多店", "小卖部"),
    "餐饮": ("餐馆", "饭店", "粉面馆", "小吃店", "茶餐厅", "烧腊店"),
    "理发": ("发型屋", "理发店", "美发店"),
    "五金": ("五金店", "五金建材", "水电五金"),
    "服装": ("服装店", "时装", "制衣"),
    "水果": ("水果店", "果行"),
    "手机维修": ("手机维修", "通讯"),
    "洗衣": ("洗衣店", "干洗店"),
    "药店": ("大药房", "药店"),
    "超市": ("超市", "购物中心"),
    "茶行": ("茶行", "茶叶店"),
    "电器": ("电器行", "家电"),
    "培训": ("培训中心", "教育"),
    "电动车维修": ("车行", "电动车维修"),
    "旅馆": ("旅馆", "旅店", "宾馆"),
    "公寓": ("公寓", "青年公寓", "商务公寓"),
    "网吧": ("网吧", "网络会所"),
    "KTV": ("KTV", "歌城"),
    "棋牌室": ("棋牌室", "茶艺棋牌"),
    "桌球室": ("桌球室", "台球会所"),
}


def person_name(rnd: random.Random, gender: str, surname: str | None = None) -> str:
    """A plausible Chinese name: a surname plus one or two given-name characters."""
    sur = surname or rnd.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    pool = GIVEN_MALE if gender == "M" else GIVEN_FEMALE
    given = rnd.choice(pool) if rnd.random() < 0.3 else rnd.choice(pool) + rnd.choice(pool)
    return sur + given


def shop_name(rnd: random.Random, category: str) -> str:
    """A small-business name such as 好运便利店."""
    return rnd.choice(SHOP_PREFIXES) + rnd.choice(CATEGORY_SUFFIXES.get(category, (category,)))


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a mainland resident ID number (GB 11643)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_valid(number: str) -> bool:
    """Whether an 18-character ID number has a well-formed body and a matching check character."""
    return len(number) == 18 and number[:17].isdigit() and id_check_digit(number[:17]) == number[17]


def id_number(rnd: random.Random, region: str, birth: date, gender: str) -> str:
    """A synthetic 18-digit ID number; the sequence's last digit is odd for men and even for women."""
    seq = rnd.randrange(0, 100) * 10 + rnd.randrange(1 if gender == "M" else 0, 10, 2)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


def mobile(rnd: random.Random) -> str:
    """An 11-digit mainland mobile number."""
    return rnd.choice(_MOBILE_PREFIXES) + f"{rnd.randrange(100_000_000):08d}"


def landline(key: str) -> str:
    """A stable Shenzhen landline derived from a key, so the same office always shows the same number."""
    return f"0755-8{zlib.crc32(key.encode('utf-8')) % 10_000_000:07d}"


# --------------------------------------------------------------------------- reference tables

# Approximate, axis-aligned positions of Futian's main roads (E-W by latitude, N-S by longitude).
ROADS_EW = (
    ("梅林路", 22.574),
    ("北环大道", 22.566),
    ("莲花路", 22.556),
    ("红荔路", 22.549),
    ("深南大道", 22.541),
    ("福华路", 22.535),
    ("滨河大道", 22.528),
    ("福强路", 22.521),
    ("福荣路", 22.514),
)
ROADS_NS = (
    ("侨城东路", 114.005),
    ("深云路", 114.016),
    ("香蜜湖路", 114.027),
    ("农林路", 114.035),
    ("沙嘴路", 114.041),
    ("新洲路", 114.047),
    ("民田路", 114.053),
    ("益田路", 114.057),
    ("金田路", 114.061),
    ("彩田路", 114.065),
    ("皇岗路", 114.071),
    ("福田路", 114.076),
    ("华富路", 114.081),
    ("华强北路", 114.086),
    ("上步路", 114.091),
    ("红岭路", 114.098),
)
USES = ("residential", "mixed", "commercial", "office", "industrial", "public")
# Street code: (building density weight per km², weights of USES, roads used in addresses).
STREET_PROFILES: dict[str, tuple[float, tuple[float, ...], tuple[str, ...]]] = {
    "440304001": (3.0, (0.62, 0.15, 0.10, 0.04, 0.02, 0.07), ("南园路", "滨江路", "红岭南路", "巴登街")),
    "440304002": (3.0, (0.62, 0.14, 0.08, 0.08, 0.01, 0.07), ("红荔路", "八卦路", "园岭东路", "百花路")),
    "440304004": (
        2.0,
        (0.40, 0.12, 0.14, 0.24, 0.01, 0.09),
        ("福民路", "福华路", "金田路", "彩田路", "皇岗路"),
    ),
    "440304005": (1.2, (0.55, 0.12, 0.10, 0.12, 0.03, 0.08), ("沙嘴路", "新洲路", "金地一路", "沙尾路")),
    "440304006": (0.7, (0.58, 0.08, 0.08, 0.12, 0.04, 0.10), ("香梅路", "农园路", "侨香路", "香蜜湖路")),
    "440304007": (0.9, (0.58, 0.08, 0.08, 0.08, 0.10, 0.08), ("梅林路", "上梅林路", "梅华路", "梅康路")),
    "440304008": (
        1.6,
        (0.50, 0.10, 0.08, 0.22, 0.02, 0.08),
        ("莲花路", "景田路", "商报路", "新闻路", "紫荆路"),
    ),
    "440304009": (2.5, (0.55, 0.14, 0.10, 0.10, 0.03, 0.08), ("华富路", "笋岗西路", "田面路", "黄木岗路")),
    "440304010": (1.2, (0.42, 0.10, 0.10, 0.16, 0.15, 0.07), ("石厦北街", "益田路", "福强路", "福保路")),
    "440304011": (3.5, (0.10, 0.20, 0.36, 0.28, 0.01, 0.05), ("华强北路", "振华路", "振兴路", "燕南路")),
    "440304400": (0.8, (0.00, 0.02, 0.10, 0.25, 0.58, 0.05), ("桃花路", "红棉道", "紫荆道", "槟榔道")),
}
DEFAULT_PROFILE = (1.0, (0.5, 0.1, 0.1, 0.15, 0.05, 0.1), ("福田路",))
NAME_WORDS = {
    "residential": ("花园", "新村", "家园", "苑", "雅居"),
    "mixed": ("大厦", "广场"),
    "commercial": ("商业中心", "广场", "商场"),
    "office": ("大厦", "中心", "国际大厦"),
    "industrial": ("工业区", "科技园"),
    "public": ("社区服务中心", "学校", "社康中心", "文体中心"),
}
# kind: (categories, employees range, floor area range)
VENUE_KINDS = {
    "small_shop": (
        ("便利店", "餐饮", "理发", "五金", "服装", "水果", "手机维修", "洗衣", "电动车维修"),
        (1, 6),
        (10, 60),
    ),
    "small_hotel": (("旅馆", "公寓"), (1, 4), (80, 400)),
    "small_entertainment": (("网吧", "KTV", "棋牌室", "桌球室"), (3, 15), (60, 300)),
    "merchant": (("餐饮", "超市", "药店", "茶行", "电器", "培训", "服装"), (2, 20), (30, 200)),
}
FOOD_CATEGORIES = {"便利店", "餐饮", "水果", "超市", "茶行"}

FACILITY_PLACES = {  # kind: (share along roads, sideways offset range in metres, major roads only)
    "street_light": (1.0, (11, 13), False),
    "manhole_cover": (1.0, (0, 5), False),
    "rubbish_bin": (0.6, (8, 12), False),
    "fire_hydrant": (1.0, (9, 12), False),
    "camera_pole": (1.0, (10, 14), False),
    "guard_rail": (1.0, (0, 1), True),
    "bench": (0.5, (8, 12), False),
    "bus_shelter": (1.0, (12, 14), True),
    "traffic_signal": (1.0, (0, 0), True),
    "newsstand": (0.7, (9, 12), True),
    "public_toilet": (0.4, (12, 20), False),
}


def facility_settings(rnd: random.Random, kind: str, road: str) -> tuple[dict[str, Any], str | None]:
    """What a facility's QR page shows as its settings, plus an owner override: manholes on the road
    network itself belong to the roads office rather than the water bureau."""
    c, i = rnd.choice, rnd.randint
    if kind == "manhole_cover":
        net = c(("sewer", "storm", "water_supply", "road"))
        return {
            "diameter_mm": c((600, 700, 800)),
            "material": c(("ductile iron", "composite")),
            "network": net,
            "load_class": "D400",
        }, ("roads_facilities" if net == "road" else None)
    makers: dict[str, Callable[[], dict[str, Any]]] = {
        "street_light": lambda: {
            "lamp": c(("LED", "LED", "high_pressure_sodium")),
            "watts": c((100, 150, 250)),
            "pole_height_m": c((8, 10, 12)),
            "on": "18:30",
            "off": "06:30",
        },
        "rubbish_bin": lambda: {
            "capacity_l": c((120, 240)),
            "compartments": ["recyclable", "other"],
            "emptied": "daily 06:00",
        },
        "fire_hydrant": lambda: {
            "pressure_mpa": c((0.25, 0.3, 0.35)),
            "diameter_mm": c((100, 150)),
            "type": c(("underground", "above_ground")),
        },
        "camera_pole": lambda: {
            "cameras": i(1, 4),
            "type": c(("bullet", "dome")),
            "resolution": c(("1080p", "4K")),
        },
        "guard_rail": lambda: {"length_m": i(20, 200), "material": "galvanised steel", "height_m": 1.1},
        "bench": lambda: {"seats": c((2, 3, 4)), "material": c(("wood", "steel", "stone"))},
        "bus_shelter": lambda: {"stop": f"{road}站", "routes": sorted({f"M{i(100, 599)}" for _ in range(3)})},
        "traffic_signal": lambda: {
            "phases": c((3, 4)),
            "cycle_s": i(90, 160),
            "controller": c(("adaptive", "fixed_time")),
        },
        "newsstand": lambda: {"area_m2": c((4, 6, 8)), "hours": "07:00-22:00"},
        "public_toilet": lambda: {
            "class": c(("一类", "二类")),
            "hours": "24h",
            "stalls": i(4, 16),
            "accessible": True,
        },
    }
    return makers[kind](), None
