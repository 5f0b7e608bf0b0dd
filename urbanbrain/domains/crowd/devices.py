"""The crowd inputs' device types, as the sensing platform knows them. Each message says what was seen since
the device's previous message (counters) or now (cameras, cells)."""

from __future__ import annotations

from typing import Any

ROLE_TYPES = {
    "entrance": "line_counter",
    "exit": "line_counter",
    "camera": "crowd_camera",
    "cell": "cell_signal",
}

DEVICE_TYPES: list[dict[str, Any]] = [
    {
        "code": "line_counter",
        "name_zh": "客流计数器",
        "name_en": "Line counter",
        "measurements": [
            {
                "name": "in",
                "unit": "persons",
                "min": 0,
                "zh": "进入人数（自上条消息）",
                "en": "Persons in since the last message",
            },
            {
                "name": "out",
                "unit": "persons",
                "min": 0,
                "zh": "离开人数（自上条消息）",
                "en": "Persons out since the last message",
            },
        ],
    },
    {
        "code": "crowd_camera",
        "name_zh": "人群计数摄像机",
        "name_en": "Crowd-counting camera",
        "measurements": [
            {
                "name": "head_count",
                "unit": "persons",
                "min": 0,
                "zh": "画面内人数",
                "en": "Persons in view now",
            },
        ],
    },
    {
        "code": "cell_signal",
        "name_zh": "手机信令人数估计",
        "name_en": "Phone-signal estimate",
        "measurements": [
            {
                "name": "persons",
                "unit": "persons",
                "min": 0,
                "zh": "网格内估计人数",
                "en": "Estimated persons in the cell",
            },
        ],
    },
]
