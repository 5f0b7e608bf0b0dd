"""The keyword-matching baseline: the rule a city office would write by hand before any model.

Why keep it: the trained classifier has to earn its place, so the benchmark and the tests measure it
against this rule on the same held-out reports. The lists are honest: the words an operator would pick for
each minor class from the taxonomy names and everyday usage, extended once after reading training reports
(never the held-out ones), not padded to look bad. Scoring: every keyword found in the text adds its
length (a longer, more specific match wins); the best-scoring class is returned, ties go to the class
listed first, and no match returns None.
"""

from __future__ import annotations

import unicodedata

KEYWORDS: dict[str, list[str]] = {
    "C0101": ["井盖", "窨井", "井口", "沙井"],
    "C0102": ["消火栓", "消防栓", "消防水龙头"],
    "C0103": ["垃圾桶", "垃圾箱", "垃圾筒", "果皮箱", "果皮桶", "分类桶"],
    "C0104": ["报刊亭", "报亭", "书报亭"],
    "C0105": ["公厕", "厕所", "卫生间", "洗手间", "冲水", "小便池"],
    "C0106": ["监控", "摄像头", "探头", "镜头"],
    "C0201": ["路灯", "街灯", "灯杆", "庭院灯", "景观灯", "高杆灯", "不亮"],
    "C0202": ["红绿灯", "信号灯", "交通灯", "红灯", "绿灯", "黄灯"],
    "C0203": ["护栏", "隔离栏", "栏杆", "防撞栏"],
    "C0204": ["候车亭", "公交站", "站台", "站牌", "站亭", "候车棚"],
    "C0205": ["坑洼", "坑", "路面破损", "塌陷", "路面开裂", "地砖", "沉降"],
    "C0206": [
        "交通标志",
        "标志牌",
        "标线",
        "斑马线",
        "指示牌",
        "限速牌",
        "人行横道线",
        "停止线",
        "车道线",
        "路牌",
    ],
    "C0301": ["座椅", "长椅", "椅子", "石凳", "长凳", "木凳", "休闲椅"],
    "C0302": ["涂鸦", "乱涂乱画", "污损", "喷漆", "锈迹"],
    "C0401": ["倒伏", "树倒", "断枝", "树枝", "大树", "榕树", "行道树", "树木"],
    "C0402": ["绿化带", "草坪", "绿地", "花坛", "灌木", "草地"],
    "C0501": ["危房", "外墙", "墙体开裂", "墙皮", "脱落", "墙体", "裂缝", "瓷砖"],
    "C0502": ["违建", "违章搭建", "违法建设", "加建", "加盖", "搭建", "铁皮房", "彩钢板"],
    "E0101": ["垃圾", "清运", "堆放", "偷倒"],
    "E0102": ["路面脏", "油污", "泥浆", "渣土", "不洁", "泥沙", "保洁", "冲洗"],
    "E0103": ["积水", "内涝", "水浸", "水淹", "暴雨"],
    "E0104": ["污水", "粪水", "化粪池", "冒溢", "下水道", "外溢", "反水"],
    "E0201": ["广告牌", "招牌", "牌匾", "灯箱", "横幅", "店招"],
    "E0202": ["小广告", "牛皮癣", "传单", "贴纸", "办证"],
    "E0301": ["施工噪音", "工地噪音", "施工噪声", "打桩", "夜间施工"],
    "E0302": ["扬尘", "粉尘", "灰尘", "尘土", "沙尘", "防尘网", "雾炮"],
    "E0303": ["占道施工", "挖路", "围挡", "施工占道", "管道施工", "修路"],
    "E0401": ["踩踏", "拥挤", "人群", "人太多", "人流", "挤"],
    "E0402": ["溺水", "落水", "游泳", "玩水", "戏水", "跳河", "掉进水里"],
    "E0403": ["燃气", "煤气", "天然气", "漏气", "液化气"],
    "E0501": ["摊贩", "摆摊", "占道经营", "地摊", "小贩", "流动摊"],
    "E0502": ["店外经营", "出店经营", "跨门经营", "店门口", "门外"],
    "E0503": ["乱停", "违停", "违章停车", "停满", "僵尸车", "双排停车"],
    "E0504": ["共享单车", "单车", "小黄车", "电单车"],
    "E0601": ["危化品", "危险化学品", "化学品", "天那水", "汽油", "硫酸", "稀释剂", "刺鼻"],
    "E0602": ["脚手架", "塔吊", "基坑", "安全帽", "安全带", "高空作业", "吊篮", "起重机"],
    "E0701": ["着火", "起火", "火灾", "失火", "浓烟", "火光", "明火", "烧起来"],
    "E0702": ["消防通道", "生命通道", "安全出口", "疏散通道", "消防车道"],
    "E0703": ["电线", "线路老化", "私拉乱接", "插座", "跳闸", "短路", "线路"],
    "E0704": ["三小场所", "灭火器", "小旅馆", "网吧", "小作坊", "三合一", "小餐馆"],
    "E0801": ["油烟", "排烟", "烧烤烟"],
    "E0802": ["噪音", "广场舞", "扰民", "吵", "音响", "酒吧", "装修"],
    "E0803": ["河道", "河水", "水体", "发黑发臭", "排污口", "偷排", "死鱼", "河面"],
    "E0901": ["打架", "斗殴", "打人", "打起来", "群殴", "互砍"],
    "E0902": ["被偷", "盗窃", "小偷", "被盗", "偷走", "撬"],
    "E0903": ["群租", "隔断", "床位", "二房东", "上下铺"],
}


def keyword_scores(text: str) -> dict[str, int]:
    """Per class, the summed length of its keywords found in the text (classes with no match omitted)."""
    norm = unicodedata.normalize("NFKC", text or "")
    scores: dict[str, int] = {}
    for code, words in KEYWORDS.items():
        score = sum(len(w) for w in words if w in norm)
        if score:
            scores[code] = score
    return scores


def keyword_classify(text: str) -> str | None:
    """The best-matching minor-class code, or None when no keyword matches."""
    scores = keyword_scores(text)
    if not scores:
        return None
    return max(scores, key=scores.__getitem__)
