"""A small IPP/1.1 client (RFC 8010/8011) on the standard library.

Enough for the kiosk: Print-Job with a PDF and job attributes, Get-Job-Attributes,
Get-Printer-Attributes and CUPS-Get-Printers. Collections in responses are
flattened (their members are skipped), which these operations do not need.
"""

from __future__ import annotations

import http.client
import itertools
import logging
import ssl
import struct
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kiosk.core.errors import PrinterError

log = logging.getLogger(__name__)

# operations
PRINT_JOB = 0x0002
CANCEL_JOB = 0x0008
GET_JOB_ATTRIBUTES = 0x0009
GET_PRINTER_ATTRIBUTES = 0x000B
CUPS_GET_PRINTERS = 0x4002
# delimiter tags
OPERATION = 0x01
JOB = 0x02
END = 0x03
PRINTER = 0x04
# value tags
INTEGER, BOOLEAN, ENUM = 0x21, 0x22, 0x23
OCTET_STRING, DATETIME, RESOLUTION, RANGE = 0x30, 0x31, 0x32, 0x33
BEG_COLLECTION, TEXT_LANG, NAME_LANG, END_COLLECTION = 0x34, 0x35, 0x36, 0x37
TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE, MIME = 0x41, 0x42, 0x44, 0x45, 0x47, 0x48, 0x49
MEMBER_NAME = 0x4A

STATUS_TEXT = {
    0x0400: "bad request",
    0x0401: "forbidden",
    0x0402: "not authenticated",
    0x0403: "not authorized",
    0x0404: "not possible",
    0x0405: "timeout",
    0x0406: "not found",
    0x0407: "gone",
    0x0408: "request too large",
    0x040A: "document format not supported",
    0x040B: "attributes or values not supported",
    0x0500: "internal printer error",
    0x0501: "operation not supported",
    0x0502: "service unavailable",
    0x0506: "printer busy",
    0x0507: "printer not accepting jobs",
}
_request_ids = itertools.count(1)

Value = int | bool | str | bytes | tuple[int, int] | tuple[int, int, int] | None


@dataclass
class Attribute:
    """One attribute to send: a name, a value tag and one or more values."""

    name: str
    tag: int
    values: list[Value]


@dataclass
class IppResponse:
    """A parsed response: status code and attribute groups (tag, {name: [values]})."""

    status: int
    request_id: int
    groups: list[tuple[int, dict[str, list[Value]]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status < 0x0100

    def first(self, group_tag: int) -> dict[str, list[Value]]:
        for tag, attrs in self.groups:
            if tag == group_tag:
                return attrs
        return {}

    def all(self, group_tag: int) -> list[dict[str, list[Value]]]:
        return [attrs for tag, attrs in self.groups if tag == group_tag]

    def value(self, group_tag: int, name: str, default: Value = None) -> Value:
        values = self.first(group_tag).get(name)
        return values[0] if values else default

    @property
    def message(self) -> str:
        text = self.value(OPERATION, "status-message")
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return f"{STATUS_TEXT.get(self.status, hex(self.status))}" + (f" ({text})" if text else "")


def _encode_value(tag: int, value: Value) -> bytes:
    if tag in (INTEGER, ENUM):
        return struct.pack(">i", int(value))  # type: ignore[arg-type]
    if tag == BOOLEAN:
        return b"\x01" if value else b"\x00"
    if tag == RANGE:
        low, high = value  # type: ignore[misc,str-unpack]
        return struct.pack(">ii", low, high)
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def encode_request(
    operation: int,
    groups: list[tuple[int, list[Attribute]]],
    request_id: int | None = None,
    version: tuple[int, int] = (1, 1),
) -> bytes:
    """The binary IPP request (without document data)."""
    rid = request_id if request_id is not None else next(_request_ids)
    out = bytearray(struct.pack(">bbhi", version[0], version[1], operation, rid))
    for group_tag, attrs in groups:
        out.append(group_tag)
        for attr in attrs:
            for n, value in enumerate(attr.values):
                name = attr.name.encode("ascii") if n == 0 else b""
                data = _encode_value(attr.tag, value)
                out += struct.pack(">bh", attr.tag, len(name)) + name + struct.pack(">h", len(data)) + data
    out.append(END)
    return bytes(out)


def _decode_value(tag: int, data: bytes) -> Value:
    if tag in (INTEGER, ENUM) and len(data) == 4:
        return struct.unpack(">i", data)[0]
    if tag == BOOLEAN and len(data) == 1:
        return data != b"\x00"
    if tag == RANGE and len(data) == 8:
        return struct.unpack(">ii", data)
    if tag == RESOLUTION and len(data) == 9:
        return struct.unpack(">iib", data)
    if tag in (TEXT_LANG, NAME_LANG) and len(data) >= 4:
        lang_len = struct.unpack(">h", data[:2])[0]
        rest = data[2 + lang_len :]
        text_len = struct.unpack(">h", rest[:2])[0]
        return rest[2 : 2 + text_len].decode("utf-8", "replace")
    if 0x40 <= tag <= 0x5F:
        return data.decode("utf-8", "replace")
    if 0x10 <= tag <= 0x1F:
        return None  # out-of-band: unknown, no-value, unsupported
    return data


def decode_response(data: bytes) -> IppResponse:
    """Parse an IPP response.

    Raises:
        PrinterError: truncated or not IPP.
    """
    try:
        _major, _minor, status, rid = struct.unpack(">bbhi", data[:8])
        response = IppResponse(status=status, request_id=rid)
        pos, depth = 8, 0
        current: dict[str, list[Value]] | None = None
        last_name = ""
        while pos < len(data):
            tag = data[pos]
            pos += 1
            if tag == END:
                break
            if tag < 0x10:
                current = {}
                response.groups.append((tag, current))
                continue
            name_len = struct.unpack(">h", data[pos : pos + 2])[0]
            name = data[pos + 2 : pos + 2 + name_len].decode("utf-8", "replace")
            pos += 2 + name_len
            value_len = struct.unpack(">h", data[pos : pos + 2])[0]
            raw = data[pos + 2 : pos + 2 + value_len]
            if len(raw) != value_len:
                raise PrinterError("the printer sent a truncated IPP response")
            pos += 2 + value_len
            if tag == BEG_COLLECTION:
                if depth == 0 and current is not None:
                    current.setdefault(name or last_name, []).append("<collection>")
                    last_name = name or last_name
                depth += 1
                continue
            if tag == END_COLLECTION:
                depth = max(depth - 1, 0)
                continue
            if depth or current is None:
                continue  # collection members are not needed by the kiosk
            if name:
                last_name = name
            current.setdefault(last_name, []).append(_decode_value(tag, raw))
        return response
    except (struct.error, IndexError):
        raise PrinterError("the printer sent a response that is not IPP") from None


def http_url(uri: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) to POST to for an ipp://, ipps://, http:// or https:// URI.

    Raises:
        PrinterError: not an IPP URI.
    """
    parts = urlsplit(uri)
    scheme = {"ipp": "http", "ipps": "https", "http": "http", "https": "https"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise PrinterError(f"{uri!r} is not an ipp:// printer address")
    port = parts.port or (631 if parts.scheme in ("ipp", "ipps") else (443 if scheme == "https" else 80))
    return scheme, parts.hostname, port, parts.path or "/"


def send(uri: str, body: bytes, document: bytes | bytearray | None = None, timeout: float = 10.0) -> IppResponse:
    """POST one IPP request (plus document data) and parse the answer.

    Raises:
        PrinterError: unreachable, HTTP error, or not IPP.
    """
    scheme, host, port, path = http_url(uri)
    conn: http.client.HTTPConnection
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    length = len(body) + (len(document) if document is not None else 0)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/ipp")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        conn.send(body)
        if document is not None:
            view = memoryview(document)
            for start in range(0, len(view), 1 << 20):
                conn.send(view[start : start + (1 << 20)])
        reply = conn.getresponse()
        data = reply.read()
        if reply.status != 200:
            raise PrinterError(f"the printer answered HTTP {reply.status} {reply.reason}")
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise PrinterError(f"the printer at {host}:{port} cannot be reached ({type(exc).__name__})") from None
    finally:
        conn.close()
    return decode_response(data)


def operation_attributes(uri: str, user: str = "cloudtab-kiosk", **extra: Any) -> list[Attribute]:
    """The mandatory first operation attributes."""
    attrs = [
        Attribute("attributes-charset", CHARSET, ["utf-8"]),
        Attribute("attributes-natural-language", LANGUAGE, ["en"]),
        Attribute("printer-uri", URI, [uri]),
        Attribute("requesting-user-name", NAME, [user]),
    ]
    for name, (tag, values) in extra.items():
        attrs.append(Attribute(name.replace("_", "-"), tag, list(values)))
    return attrs
