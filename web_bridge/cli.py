"""``cloudtab-bridge``: run the web bridge (development server for the embedded setup).

Production runs the same app under gunicorn, configured through the environment::

    CLOUDTAB_BRIDGE_RELAY_ADDRESS=relay:50051 \\
        gunicorn -k gthread --threads 32 -b 0.0.0.0:8000 'web_bridge:create_app()'
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from werkzeug.serving import run_simple

from web_bridge import DEFAULTS, create_app, startup

logger = logging.getLogger(__name__)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(
        prog="cloudtab-bridge",
        description="CloudTab web bridge: the customer's upload page, bridged to the relay.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the development server (use gunicorn in production, see --help)",
        description=(
            "Serve the upload page. For production use gunicorn: "
            "CLOUDTAB_BRIDGE_RELAY_ADDRESS=HOST:PORT gunicorn -k gthread --threads 32 "
            "'web_bridge:create_app()'. Every setting can also be given as a "
            "CLOUDTAB_BRIDGE_<NAME> environment variable."
        ),
    )
    serve.add_argument(
        "--relay",
        default=os.environ.get("CLOUDTAB_BRIDGE_RELAY_ADDRESS", "127.0.0.1:50051"),
        help="relay gRPC address HOST:PORT (env CLOUDTAB_BRIDGE_RELAY_ADDRESS; default %(default)s)",
    )
    serve.add_argument(
        "--listen",
        type=_host_port,
        default=os.environ.get("CLOUDTAB_BRIDGE_LISTEN", "127.0.0.1:8080"),
        help="address to serve HTTP on, HOST:PORT (env CLOUDTAB_BRIDGE_LISTEN; default %(default)s)",
    )
    serve.add_argument("--relay-tls", action="store_true", help="connect to the relay with TLS")
    serve.add_argument(
        "--job-limit",
        default=None,
        help="job creation limit per client IP, e.g. '10 per minute'",
    )
    serve.add_argument("--verbose", "-v", action="store_true", help="log requests")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cloudtab-bridge``; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    listen = args.listen if isinstance(args.listen, tuple) else _host_port(args.listen)
    # Flags are the same settings as the CLOUDTAB_BRIDGE_* variables: set those, so the
    # app factory reads one source of configuration.
    os.environ["CLOUDTAB_BRIDGE_RELAY_ADDRESS"] = args.relay
    if args.relay_tls:
        os.environ["CLOUDTAB_BRIDGE_RELAY_TLS"] = "true"
    if args.job_limit:
        os.environ["CLOUDTAB_BRIDGE_JOB_CREATE_LIMIT"] = args.job_limit
    try:
        startup.check_settings(
            {
                **DEFAULTS,
                "RELAY_ADDRESS": args.relay,
                "RELAY_CA_FILE": os.environ.get("CLOUDTAB_BRIDGE_RELAY_CA_FILE") or None,
                "JOB_CREATE_LIMIT": os.environ.get("CLOUDTAB_BRIDGE_JOB_CREATE_LIMIT"),
            }
        )
        startup.check_listen(*listen)
        app = create_app()
    except startup.StartupError as exc:
        print(f"cloudtab-bridge: {exc}", file=sys.stderr)
        return 1
    print(f"cloudtab-bridge: serving http://{listen[0]}:{listen[1]}/ (relay {args.relay})", file=sys.stderr, flush=True)
    # SIGTERM (cloudtab up, service managers) stops like Ctrl-C: exit status 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(listen[0], listen[1], app, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
