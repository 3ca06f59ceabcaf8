"""``cloudtab-bridge``: run the web bridge.

``serve`` runs the production server in one process: gunicorn's asyncio worker with the
bridge's header deadline (:mod:`web_bridge.server`), one worker. Production runs more
workers, configured through the environment::

    CLOUDTAB_BRIDGE_RELAY_ADDRESS=relay:50051 gunicorn -k web_bridge.server.BridgeWorker \\
        --workers 4 --keep-alive 5 -b 127.0.0.1:8080 'web_bridge.asgi:create_asgi_app()'
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

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
        help="serve the upload page (one gunicorn worker; more with gunicorn itself, see --help)",
        description=(
            "Serve the upload page with one worker. For several, run gunicorn: "
            "CLOUDTAB_BRIDGE_RELAY_ADDRESS=HOST:PORT gunicorn -k web_bridge.server.BridgeWorker --workers 4 "
            "--keep-alive 5 'web_bridge.asgi:create_asgi_app()'. Every setting can also be given as a "
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
        create_app()  # a setting the app refuses stops here, before the server starts
    except startup.StartupError as exc:
        print(f"cloudtab-bridge: {exc}", file=sys.stderr)
        return 1
    print(f"cloudtab-bridge: serving http://{listen[0]}:{listen[1]}/ (relay {args.relay})", file=sys.stderr, flush=True)
    from web_bridge import server

    host = f"[{listen[0]}]" if ":" in listen[0] else listen[0]
    # gunicorn stops on SIGTERM (cloudtab up, service managers) and Ctrl-C with status 0.
    server.serve(f"{host}:{listen[1]}", verbose=args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
