"""Errors a person can act on: a machine code, an HTTP status and a sentence in Chinese and English.

Every domain registers its messages here with :func:`register_messages`; the API renders them as
``{"code", "message", "messages": {"zh-CN", "en"}}`` and never shows a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    status: int
    zh: str
    en: str


_CATALOG: dict[str, Message] = {}


def register_messages(messages: dict[str, tuple[int, str, str]]) -> None:
    """Add ``code -> (status, zh-CN template, English template)``; templates use ``{name}`` fields."""
    for code, (status, zh, en) in messages.items():
        _CATALOG[code] = Message(status, zh, en)


def catalog() -> dict[str, Message]:
    return dict(_CATALOG)


class UrbanBrainError(Exception):
    """A failure the caller can act on. ``code`` must be registered in the catalog."""

    def __init__(self, code: str, /, **params: Any) -> None:
        if code not in _CATALOG:
            raise KeyError(f"unregistered error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.render("en"))

    @property
    def status(self) -> int:
        return _CATALOG[self.code].status

    def render(self, lang: str) -> str:
        msg = _CATALOG[self.code]
        template = msg.zh if lang.lower().startswith("zh") else msg.en
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.render(lang),
            "messages": {"zh-CN": self.render("zh-CN"), "en": self.render("en")},
        }
        detail = self.params.get("detail")
        if detail is not None:
            body["detail"] = detail
        return body


register_messages(
    {
        "request.invalid": (
            422,
            "请求内容不合法：{summary}。请按说明修改后重试。",
            "The request is not valid: {summary}. Correct it and try again.",
        ),
        "request.malformed": (
            400,
            "请求正文无法解析，请发送合法的 JSON。",
            "The request body could not be parsed; send valid JSON.",
        ),
        "not_found": (404, "找不到该资源（{what}）。", "Not found: {what}."),
        "route.not_found": (
            404,
            "没有这个地址：{path}。请查看 /docs。",
            "No such address: {path}. See /docs.",
        ),
        "method.not_allowed": (405, "此地址不支持该方法。", "This address does not accept that method."),
        "conflict": (409, "与现有数据冲突：{what}。", "This conflicts with existing data: {what}."),
        "stale": (
            409,
            "数据已被他人修改（版本 {expected} ≠ {actual}），请刷新后重试。",
            "Someone else changed this record (version {expected} != {actual}); reload and try again.",
        ),
        "conflict.concurrent": (
            409,
            "该记录刚被他人修改，请刷新后重试。",
            "Someone changed this record at the same moment; reload it and try again.",
        ),
        "internal": (
            500,
            "服务器内部错误，已记录（编号 {ref}）。请稍后重试或联系管理员。",
            "Internal error, logged as {ref}. Try again later or tell the administrator.",
        ),
        "auth.required": (
            401,
            "需要登录：请先在 /api/v1/auth/token 获取令牌，或提供 API 密钥。",
            "Log in first: get a token at /api/v1/auth/token, or send an API key.",
        ),
        "auth.bad_credentials": (
            401,
            "用户名或密码错误。",
            "Wrong username or password.",
        ),
        "auth.token_invalid": (
            401,
            "令牌无效或已过期，请重新登录。",
            "The token is invalid or expired; log in again.",
        ),
        "auth.api_key_invalid": (
            401,
            "API 密钥无效或已吊销。",
            "The API key is invalid or revoked.",
        ),
        "auth.user_inactive": (403, "该账号已停用。", "This account is disabled."),
        "auth.forbidden": (
            403,
            "您的角色（{role}）没有“{permission}”权限。",
            "Your role ({role}) lacks the permission '{permission}'.",
        ),
        "auth.out_of_scope": (
            403,
            "该数据不在您的管辖范围内（{scope}）。",
            "This record is outside your data scope ({scope}).",
        ),
        "auth.unknown_role": (422, "未知角色：{role}。", "Unknown role: {role}."),
        "auth.scope_required": (
            422,
            "角色 {role} 需要指定{what}。",
            "Role {role} needs a {what}.",
        ),
        "auth.weak_password": (
            422,
            "密码太短，至少需要 {min} 个字符。",
            "The password is too short; use at least {min} characters.",
        ),
        "geo.not_a_number": (
            422,
            "坐标不是有效数字（经度 {lon}，纬度 {lat}）。",
            "The coordinates are not valid numbers (lon {lon}, lat {lat}).",
        ),
        "geo.out_of_range": (
            422,
            "坐标超出范围：经度应在 -180 到 180 之间，纬度在 -90 到 90 之间。",
            "Coordinates out of range: longitude must be within -180..180 and latitude within -90..90.",
        ),
        "geo.lat_lon_swapped": (
            422,
            "经纬度似乎写反了：({lon}, {lat}) 交换后才落在辖区内。请按“经度, 纬度”顺序提交。",
            "Latitude and longitude look swapped: ({lon}, {lat}) is in the district only when swapped. "
            "Send longitude first, then latitude.",
        ),
        "geo.outside_district": (
            422,
            "该位置（{lon}, {lat}）不在本辖区内。",
            "The position ({lon}, {lat}) is outside this district.",
        ),
        "geo.bad_geometry": (
            422,
            "几何图形无效：{reason}。",
            "The geometry is not valid: {reason}.",
        ),
        "geo.radius_too_large": (
            422,
            "搜索半径不能超过 {max} 米。",
            "The search radius may not exceed {max} metres.",
        ),
    }
)
