"""HTTP header values of binary mode: percent-encoding both ways (HTTP binding §3.1.3.2).

Header strings follow the ASGI/WSGI convention: each character is one byte of the
header as sent (latin-1). Decoding undoes an RFC 7230 quoted-string, then one round of
percent-decoding, then reads the bytes as strict UTF-8 (overlong forms are rejected).
Encoding percent-encodes space, ``"``, ``%`` and everything outside U+0021-U+007E as
UTF-8 bytes with upper-case hex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote

from bulut.errors import InvalidCloudEventError

# Characters that may stand in a header value unencoded: U+0021-U+007E except '"' and '%'.
_SAFE: Final = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
_NEEDS_ENCODING = re.compile(r"[^\x21\x23\x24\x26-\x7e]")
_HEX: Final = "0123456789abcdefABCDEF"
_PERCENT_BYTE: Final = {
    (high + low).encode("ascii"): int(high + low, 16) for high in _HEX for low in _HEX
}


def _unquote_string(value: str, name: str) -> str:
    """Undo an RFC 7230 quoted-string: strip the quotes and resolve backslash pairs."""
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    chars: list[str] = []
    escaped = False
    for char in inner:
        if escaped:
            chars.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            chars.append(char)
    if escaped:
        raise InvalidCloudEventError(
            f"header ce-{name} ends inside a quoted-string escape", field=name
        )
    return "".join(chars)


def _percent_decode(raw: bytes, name: str) -> bytes:
    pieces = raw.split(b"%")
    out = bytearray(pieces[0])
    for piece in pieces[1:]:
        byte = _PERCENT_BYTE.get(piece[:2])
        if byte is None:
            raise InvalidCloudEventError(
                f"header ce-{name} has a '%' not followed by two hex digits", field=name
            )
        out.append(byte)
        out += piece[2:]
    return bytes(out)


def decode_header_value(name: str, value: str) -> str:
    """The attribute string carried by the header value of attribute ``name``."""
    if value.isascii() and "%" not in value and '"' not in value:
        return value
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = _unquote_string(value, name)
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogatepass")
    if b"%" in raw:
        raw = _percent_decode(raw, name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCloudEventError(
            f"header ce-{name} is not valid UTF-8 once percent-decoded ({exc.reason} "
            f"at byte {exc.start})",
            field=name,
        ) from None


def encode_header_value(value: str) -> str:
    """Percent-encode an attribute's canonical string for a ``ce-`` header."""
    if _NEEDS_ENCODING.search(value) is None:
        return value
    return quote(value, safe=_SAFE, errors="surrogatepass")


def headers_from_asgi(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI ``scope["headers"]`` as a dict: lower-case names, latin-1 values.

    Repeated headers are joined with ``", "`` as RFC 9110 allows.
    """
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        previous = headers.get(name)
        headers[name] = value if previous is None else f"{previous}, {value}"
    return headers
