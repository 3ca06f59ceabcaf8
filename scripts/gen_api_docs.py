"""Write docs/api.md, the API reference, from the comments in protos/.

Usage: python scripts/gen_api_docs.py [OUT]   (default: docs/api.md)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[1]


def _load() -> descriptor_pb2.FileDescriptorSet:
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "api.pb"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                "-I",
                str(ROOT / "protos"),
                "--include_source_info",
                f"--descriptor_set_out={out}",
                *protos,
            ],
            check=True,
        )
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _comments(proto: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {
        tuple(loc.path): loc.leading_comments.strip() for loc in proto.source_code_info.location if loc.leading_comments
    }


def _type(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type_name:
        name = field.type_name.rsplit(".", 1)[-1]
        kind = f"[{name}](#{name.lower()})"
    else:
        kind = descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)[5:].lower()
    return f"repeated {kind}" if field.label == field.LABEL_REPEATED else kind


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(files: descriptor_pb2.FileDescriptorSet) -> str:
    """The Markdown reference for every service, message and enum."""
    out = [
        "# CloudTab API reference (cloudtab.v1)",
        "",
        "Generated from the comments in `protos/` by `scripts/gen_api_docs.py`; do not edit.",
        "Tokens travel as `authorization: Bearer <token>` call metadata.",
        "",
    ]
    for proto in files.file:
        if not proto.name.startswith("cloudtab/"):
            continue
        notes = _comments(proto)
        out += [f"## {proto.name}", ""]
        if notes.get((12,)):  # the file's own comment, above `syntax`
            out += [notes[(12,)], ""]
        for s_index, service in enumerate(proto.service):
            out += [f"### service {service.name}", "", notes.get((6, s_index), ""), ""]
            for m_index, method in enumerate(service.method):
                stream_in = "stream " if method.client_streaming else ""
                stream_out = "stream " if method.server_streaming else ""
                req, resp = method.input_type.rsplit(".", 1)[-1], method.output_type.rsplit(".", 1)[-1]
                out += [
                    f"#### {method.name}({stream_in}{req}) → {stream_out}{resp}",
                    "",
                    notes.get((6, s_index, 2, m_index), ""),
                    "",
                ]
        for e_index, enum in enumerate(proto.enum_type):
            out += [
                f"### {enum.name}",
                "",
                notes.get((5, e_index), ""),
                "",
                "| value | number | meaning |",
                "|---|---|---|",
            ]
            for v_index, value in enumerate(enum.value):
                out.append(
                    f"| `{value.name}` | {value.number} | {_one_line(notes.get((5, e_index, 2, v_index), ''))} |"
                )
            out.append("")
        for m_index, message in enumerate(proto.message_type):
            out += [
                f"### {message.name}",
                "",
                notes.get((4, m_index), ""),
                "",
                "| field | type | meaning |",
                "|---|---|---|",
            ]
            for f_index, field in enumerate(message.field):
                out.append(
                    f"| `{field.name}` | {_type(field)} | {_one_line(notes.get((4, m_index, 2, f_index), ''))} |"
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else ROOT / "docs" / "api.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(_load()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
