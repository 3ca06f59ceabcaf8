"""``cloudtab-relay``: run the relay and administer its database.

    cloudtab-relay serve [--listen HOST:PORT] [--data-dir DIR] [--database-url URL]
                         [--gcs-bucket NAME] [--gcs-prefix P] [--tls-cert F --tls-key F]
                         [--metrics-listen HOST:PORT] [--retention-seconds N]
                         [--heartbeat-seconds N] ...
    cloudtab-relay db upgrade
    cloudtab-relay shop add NAME [--json] | list [--json] | revoke SLUG | code SLUG [--kiosk LABEL] [--json]
    cloudtab-relay shop kiosks SLUG [--json] | revoke-kiosk SLUG LABEL

Every option also reads a ``CLOUDTAB_*`` environment variable (see docs/relay.md).
With no database URL the relay uses SQLite at DATA_DIR/relay.db. ``serve`` and
``shop`` create or upgrade the schema themselves (``--no-migrate`` to skip);
``db upgrade`` does only that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from relay_grpc import logsafe, startup
from relay_grpc.config import RelayConfig
from relay_grpc.errors import RelayError
from relay_grpc.workers import (
    WORKER_READY_ENV,
    check_workers,
    supervise,
    worker_config,
    worker_index,
)

if TYPE_CHECKING:
    from relay_grpc.shops import ShopService
    from relay_grpc.store.db import Database

log = logging.getLogger("relay_grpc.cli")


def _db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data folder (env CLOUDTAB_DATA_DIR)")
    parser.add_argument("--database-url", help="postgresql://... or sqlite:///... (env CLOUDTAB_DATABASE_URL)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (env CLOUDTAB_RELAY_LOG_LEVEL)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``cloudtab-relay``."""
    parser = argparse.ArgumentParser(prog="cloudtab-relay", description="CloudTab relay: gRPC server and admin.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the relay", description="Run the relay gRPC server.")
    _db_options(serve)
    serve.add_argument("--listen", help="HOST:PORT to serve gRPC on (default 127.0.0.1:50051)")
    serve.add_argument("--gcs-bucket", help="store blobs in this GCS bucket (default: DATA_DIR/blobs)")
    serve.add_argument("--gcs-prefix", help="object name prefix inside the bucket")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate chain (with --tls-key)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key (with --tls-cert)")
    serve.add_argument("--metrics-listen", help="HOST:PORT for Prometheus /metrics (default: off)")
    serve.add_argument("--retention-seconds", type=int, help="submitted job lifetime (default 1800)")
    serve.add_argument("--upload-retention-seconds", type=int, help="abandoned upload lifetime (default 1800)")
    serve.add_argument("--heartbeat-seconds", type=float, help="idle stream heartbeat interval (default 10)")
    serve.add_argument("--reaper-interval-seconds", type=float, help="reaper pass interval (default 30)")
    serve.add_argument("--create-job-rate", type=int, help="CreateJob per peer per minute, 0 = off (default 600)")
    serve.add_argument("--max-file-bytes", type=int, help="largest ciphertext file (default 2 GiB)")
    serve.add_argument("--max-job-bytes", type=int, help="largest ciphertext job (default 4 GiB)")
    serve.add_argument("--max-files-per-job", type=int, help="most files per job (default 20)")
    serve.add_argument("--shutdown-grace-seconds", type=float, help="grace for in-flight RPCs on SIGTERM")
    serve.add_argument("--no-migrate", action="store_true", help="do not create/upgrade the schema at start")
    serve.add_argument("--ready-file", type=Path, help='write {"port": N, ...} here once serving')
    serve.add_argument(
        "--workers", type=int,
        help="relay processes sharing the port (SO_REUSEPORT); PostgreSQL only: the embedded SQLite "
        "relay is one process (default 1)",
    )  # fmt: skip

    db = sub.add_parser("db", help="database schema", description="Manage the database schema.")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser(
        "upgrade", help="create or upgrade the schema", description="Run Alembic upgrade to head."
    )
    _db_options(upgrade)
    current = db_sub.add_parser("current", help="print the schema revision", description="Print the schema revision.")
    _db_options(current)

    shop = sub.add_parser("shop", help="manage shops", description="Manage shops on the relay's database.")
    shop_sub = shop.add_subparsers(dest="shop_command", required=True)
    add = shop_sub.add_parser(
        "add",
        help="add a shop and print its enrollment code",
        description="Add a shop; prints its slug and a one-time enrollment code valid 24 h.",
    )
    add.add_argument("name", help="display name")
    add.add_argument("--json", action="store_true", help="print one JSON object {slug, enrollment_code}")
    _db_options(add)
    lst = shop_sub.add_parser("list", help="list shops", description="List shops.")
    lst.add_argument("--json", action="store_true", help="print a JSON array")
    _db_options(lst)
    revoke = shop_sub.add_parser(
        "revoke", help="revoke a shop", description="Revoke a shop; its token stops working at once."
    )
    revoke.add_argument("slug")
    _db_options(revoke)
    code = shop_sub.add_parser(
        "code", help="issue a new enrollment code", description="Issue a new one-time enrollment code (24 h)."
    )
    code.add_argument("slug")
    code.add_argument(
        "--kiosk",
        metavar="LABEL",
        help='enrol another kiosk named LABEL (e.g. "Counter 2"); without it the kiosk replaces the shop\'s kiosks',
    )
    code.add_argument("--json", action="store_true", help="print one JSON object {slug, enrollment_code}")
    _db_options(code)
    kiosks = shop_sub.add_parser("kiosks", help="list a shop's kiosks", description="List a shop's kiosks.")
    kiosks.add_argument("slug")
    kiosks.add_argument("--json", action="store_true", help="print a JSON array")
    _db_options(kiosks)
    revoke_kiosk = shop_sub.add_parser(
        "revoke-kiosk",
        help="revoke one kiosk of a shop",
        description="Revoke one kiosk: its token stops working at once; the shop's other kiosks go on.",
    )
    revoke_kiosk.add_argument("slug")
    revoke_kiosk.add_argument("label", help='the kiosk\'s label, e.g. "Counter 2"')
    _db_options(revoke_kiosk)
    return parser


def config_from_args(args: argparse.Namespace) -> RelayConfig:
    """Environment, then flags.

    Raises:
        ValueError: a bad environment value.
    """
    names = {
        "listen": "listen", "data_dir": "data_dir", "database_url": "database_url", "gcs_bucket": "gcs_bucket",
        "gcs_prefix": "gcs_prefix", "tls_cert": "tls_cert", "tls_key": "tls_key", "metrics_listen": "metrics_listen",
        "retention_seconds": "retention_seconds", "upload_retention_seconds": "upload_retention_seconds",
        "heartbeat_seconds": "heartbeat_seconds", "reaper_interval_seconds": "reaper_interval_seconds",
        "create_job_rate": "create_job_rate_per_minute", "max_file_bytes": "max_file_bytes",
        "max_job_bytes": "max_job_bytes", "max_files_per_job": "max_files_per_job",
        "shutdown_grace_seconds": "shutdown_grace_seconds", "log_level": "log_level", "workers": "workers",
    }  # fmt: skip
    overrides = {field: getattr(args, arg) for arg, field in names.items() if getattr(args, arg, None) is not None}
    return RelayConfig.from_env(**overrides)


def ensure_schema(config: RelayConfig) -> None:
    """Create or upgrade the schema to head (PostgreSQL: under an advisory lock, so
    relays starting together migrate once)."""
    from relay_grpc.store import migrate
    from relay_grpc.store.db import is_postgres_url

    url = config.resolved_database_url
    if not is_postgres_url(url):
        config.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url)


def tune_malloc() -> None:
    """glibc: serve chunks of 2 MiB and more from mmap (returned to the OS when freed)
    and keep two arenas, so a 2 GiB transfer does not leave tens of MiB of freed
    4 MiB chunks in per-thread heaps. Best effort; nothing elsewhere."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-3, 2 * 1024 * 1024)  # M_MMAP_THRESHOLD (fixes it: no dynamic growth)
        libc.mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        log.debug("mallopt not available")


async def _serve(config: RelayConfig, ready_file: Path | None, check_database: bool = True) -> None:
    """Serve until SIGTERM/SIGINT.

    Raises:
        StartupError: the address cannot be bound, or the database or blob store is unusable.
    """
    from relay_grpc.app import open_relay
    from relay_grpc.server import build_server

    relay = open_relay(config)
    try:
        if not config.reuse_port:  # a --workers process shares the port with its siblings
            startup.check_free(config, "listen")
        startup.check_free(config, "metrics_listen")
        await startup.check_backends(relay, database=check_database)
        try:
            _server, port, handle = await build_server(config, relay)
        except (RuntimeError, OSError) as exc:
            setting = "metrics_listen" if isinstance(exc, OSError) and config.metrics_listen else "listen"
            raise startup.bind_error(config, setting) from None
    except startup.StartupError:
        await relay.blobs.close()
        await relay.db.dispose()
        raise
    await handle.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready_file is not None:
        tmp = ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": port, "metrics_port": handle.metrics_port}))
        tmp.replace(ready_file)
    await stop.wait()
    await handle.stop()


async def _shop_command(config: RelayConfig, args: argparse.Namespace) -> int:
    from relay_grpc.shops import ShopService
    from relay_grpc.store.db import Database

    db = Database.open(config.resolved_database_url, pool_size=1)
    shops = ShopService(db, config)
    try:
        if args.shop_command == "add":
            slug, code = await shops.add_shop(args.name)
            _print_code(slug, code, args.json)
        elif args.shop_command == "code":
            code = await shops.new_code(args.slug, args.kiosk)
            _print_code(args.slug, code, args.json)
        elif args.shop_command == "kiosks":
            kiosks = await shops.list_kiosks(args.slug)
            if args.json:
                print(json.dumps([k.__dict__ for k in kiosks]))
            for k in [] if args.json else kiosks:
                created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(k.created_at))
                print(f"{k.label}\t{'revoked' if k.revoked else 'active'}\t{k.key_fingerprint_display}\t{created}")
        elif args.shop_command == "revoke-kiosk":
            await shops.revoke_kiosk(args.slug, args.label)
            print(f"revoked kiosk {args.label!r} of {args.slug}; the shop's other kiosks go on")
        elif args.shop_command == "revoke":
            ended = await _revoke(config, db, shops, args.slug)
            print(f"revoked {args.slug}; {ended} unfinished jobs rejected")
        else:
            rows = await shops.list_shops()
            if args.json:
                print(json.dumps([r.__dict__ for r in rows]))
            else:
                for r in rows:
                    status = "revoked" if r.revoked else ("enrolled" if r.enrolled else "waiting for kiosk")
                    created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(r.created_at))
                    fp = r.key_fingerprint_display or "-"
                    print(f"{r.slug}\t{r.display_name}\t{status}\t{fp}\t{created}")
    finally:
        await db.dispose()
    return 0


async def _revoke(config: RelayConfig, db: Database, shops: ShopService, slug: str) -> int:
    """Revoke the shop, then reject its unfinished jobs (customers are told at once)."""
    from relay_grpc.events import make_broker
    from relay_grpc.jobs import JobService
    from relay_grpc.store.blobs import open_blob_store

    shop_id = await shops.revoke(slug)
    blobs = open_blob_store(
        gcs_bucket=config.gcs_bucket, gcs_prefix=config.gcs_prefix, data_dir=config.resolved_data_dir
    )
    try:
        jobs = JobService(db, blobs, make_broker(db.url, db.is_postgres), config)
        return len(await jobs.end_shop_jobs(shop_id))
    finally:
        await blobs.close()


def _print_code(slug: str, code: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"slug": slug, "enrollment_code": code}))
    else:
        print(f"shop: {slug}\nenrollment code (one-time, valid 24 h): {code}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cloudtab-relay``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        if args.command == "serve" and worker_index() is None:
            check_workers(config, config.workers)
    except ValueError as exc:
        print(f"cloudtab-relay: {exc}", file=sys.stderr)
        return 2
    level = config.log_level.upper() if (args.command == "serve" or args.log_level) else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    logsafe.install()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        startup.check_settings(config)
        if args.command == "db":
            if args.db_command == "upgrade":
                _with_database(config, ensure_schema)
                print("database schema is current")
            else:
                from relay_grpc.store import migrate

                print(_with_database(config, lambda c: migrate.current_revision(c.resolved_database_url)) or "(empty)")
            return 0
        index = worker_index() if args.command == "serve" else None
        if args.command == "serve" and not args.no_migrate and index is None or args.command == "shop":
            _with_database(config, ensure_schema)
        if args.command == "serve":
            tune_malloc()
            if index is not None:  # one of the processes of --workers (the supervisor migrated)
                ready = os.environ.get(WORKER_READY_ENV)
                asyncio.run(_serve(worker_config(config, index), Path(ready) if ready else None, check_database=False))
                return 0
            if config.workers > 1:
                startup.check_free(config, "listen")
                return supervise(list(argv if argv is not None else sys.argv[1:]), config.workers, args.ready_file)
            asyncio.run(_serve(config, args.ready_file, check_database=not args.no_migrate))
            return 0
        return _with_database(config, lambda c: asyncio.run(_shop_command(c, args)))
    except startup.StartupError as exc:
        print(f"cloudtab-relay: {exc}", file=sys.stderr)
        return 1
    except RelayError as exc:
        print(f"cloudtab-relay: {exc.message}", file=sys.stderr)
        return 1


T = TypeVar("T")


def _with_database(config: RelayConfig, action: Callable[[RelayConfig], T]) -> T:
    """Run `action`; a database failure becomes a StartupError naming --database-url.

    Raises:
        StartupError: the database cannot be reached or used.
        RelayError: what `action` raises for other reasons.
    """
    import sqlalchemy.exc

    try:
        return action(config)
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        raise startup.database_error(config, exc) from None


if __name__ == "__main__":
    sys.exit(main())
