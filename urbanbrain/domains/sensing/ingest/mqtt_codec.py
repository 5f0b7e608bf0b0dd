"""The part of MQTT 3.1.1 and 5 the door speaks, as bytes: CONNECT, SUBSCRIBE, PUBLISH, PUBACK, PINGREQ,
DISCONNECT out; CONNACK, SUBACK, PUBLISH, PINGRESP, DISCONNECT in. No sockets here: the door
(``mqtt_door.py``) and the benchmarks' load generator build and read packets with these."""

from __future__ import annotations

PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"
PUBLISH, CONNACK, PUBACK, SUBACK, PINGRESP, SERVER_DISCONNECT = (
    3,
    2,
    4,
    9,
    13,
    14,
)  # packet types (high nibble)


class ProtocolError(Exception):
    """The broker sent something this codec cannot read."""


def varint(value: int) -> bytes:
    """MQTT's variable byte integer."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def read_varint(data: bytes, at: int) -> tuple[int, int] | None:
    """(value, index after it), or None when ``data`` ends first."""
    value = 0
    for shift in range(0, 28, 7):
        if at >= len(data):
            return None
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
    raise ProtocolError("variable byte integer longer than 4 bytes")


def str16(raw: bytes) -> bytes:
    """A length-prefixed string."""
    return len(raw).to_bytes(2, "big") + raw


def packet(first: int, body: bytes) -> bytes:
    """A packet: its first byte, the remaining length, the body."""
    return bytes((first,)) + varint(len(body)) + body


def connect_packet(
    protocol: int,
    client_id: str,
    *,
    username: str | None = None,
    password: str | None = None,
    keepalive: int = 0,
    clean_start: bool = True,
    session_expiry: int = 0,
    receive_maximum: int = 65535,
) -> bytes:
    """CONNECT for MQTT 3.1.1 (``protocol=4``) or 5. In 3.1.1 a session is kept only when ``clean_start`` is
    off and ``session_expiry`` is not 0; in 5 they travel as the flag and the Session Expiry Interval."""
    flags = 0
    payload = str16(client_id.encode())
    if username is not None:
        flags |= 0x80
        payload += str16(username.encode())
    if password is not None:
        flags |= 0x40
        payload += str16(password.encode())
    if protocol == 5:
        flags |= 0x02 if clean_start else 0
        # Session Expiry Interval (0x11) and Receive Maximum (0x21)
        props = b"\x11" + session_expiry.to_bytes(4, "big") + b"\x21" + receive_maximum.to_bytes(2, "big")
        variable = str16(b"MQTT") + bytes((5, flags)) + keepalive.to_bytes(2, "big")
        variable += varint(len(props)) + props
    else:
        flags |= 0x02 if clean_start or session_expiry == 0 else 0
        variable = str16(b"MQTT") + bytes((4, flags)) + keepalive.to_bytes(2, "big")
    return packet(0x10, variable + payload)


def subscribe_packet(protocol: int, packet_id: int, topic_filter: str, qos: int) -> bytes:
    properties = b"\x00" if protocol == 5 else b""
    body = packet_id.to_bytes(2, "big") + properties + str16(topic_filter.encode()) + bytes((qos,))
    return packet(0x82, body)


def publish_packet(topic: bytes, payload: bytes, *, qos: int = 0, packet_id: int = 0) -> bytes:
    """PUBLISH in MQTT 3.1.1 (no properties), at QoS 0 or 1."""
    if qos:
        return packet(0x30 | (qos << 1), str16(topic) + packet_id.to_bytes(2, "big") + payload)
    return packet(0x30, str16(topic) + payload)


def puback_packet(packet_id: int) -> bytes:
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


def suback_codes(body: bytes, v5: bool) -> list[int]:
    """The reason codes of a SUBACK's body."""
    k = 2
    if v5:
        props = read_varint(body, k)
        if props is None:
            raise ProtocolError("bad SUBACK")
        k = props[1] + props[0]
    return list(body[k:])


TRANSIENT_REFUSALS = {0x03, 0x88, 0x89, 0x97, 0x9F}
CONNACK_REASONS = {
    0x01: "unacceptable protocol version",
    0x02: "client identifier rejected",
    0x03: "server unavailable",
    0x04: "bad user name or password",
    0x05: "not authorized",
    0x80: "unspecified error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x97: "quota exceeded",
    0x9F: "connection rate exceeded",
}
SUBACK_REASONS = {0x80: "unspecified error", 0x87: "not authorized", 0x8F: "topic filter invalid"}
SUBACK_REASONS |= {0x9E: "shared subscriptions not supported"}
DISCONNECT_REASONS = {
    0x00: "normal disconnection",
    0x8B: "server shutting down",
    0x8D: "keep alive timeout",
    0x8E: "session taken over (another client connected with the same client id)",
    0x9C: "use another server",
}
