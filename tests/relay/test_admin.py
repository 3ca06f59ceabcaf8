"""Admin CLI and schema migrations."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import psycopg
import pytest

from tests.fixtures.relay import ROOT, _child_env
from tests.relay.helpers import enroll, get_shop

COMMANDS = [
    ["--help"],
    ["serve", "--help"],
    ["db", "--help"],
    ["db", "upgrade", "--help"],
    ["shop", "--help"],
    ["shop", "add", "--help"],
    ["shop", "list", "--help"],
    ["shop", "revoke", "--help"],
    ["shop", "code", "--help"],
]


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay_grpc.cli", *args],
        capture_output=True, text=True, env=_child_env({}), cwd=ROOT, timeout=60, check=check,
    )  # fmt: skip


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_subcommand_answers_help(args: list[str]) -> None:
    done = run_cli(*args)
    assert done.stdout.startswith("usage: cloudtab-relay")


def test_shop_add_list_code_revoke(tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = ["--data-dir", str(tmp_path)]
    added = json.loads(run_cli("shop", "add", "Café Ünïcode", "--json", *d).stdout)
    assert added["slug"] == "cafe-unicode" and len(added["enrollment_code"]) == 19
    plain = run_cli("shop", "add", "Café Ünïcode", *d).stdout
    assert "cafe-unicode-" in plain and "valid 24 h" in plain
    listed = json.loads(run_cli("shop", "list", "--json", *d).stdout)
    assert next(s["slug"] for s in listed) == "cafe-unicode" and len(listed) == 2
    assert not listed[0]["enrolled"] and not listed[0]["revoked"]
    code = json.loads(run_cli("shop", "code", "cafe-unicode", "--json", *d).stdout)["enrollment_code"]
    assert code != added["enrollment_code"]
    assert "revoked cafe-unicode; 0 unfinished jobs rejected" in run_cli("shop", "revoke", "cafe-unicode", *d).stdout
    listed = json.loads(run_cli("shop", "list", "--json", *d).stdout)
    assert listed[0]["revoked"]
    failed = run_cli("shop", "code", "cafe-unicode", *d, check=False)
    assert failed.returncode == 1 and "no active shop" in failed.stderr
    assert run_cli("shop", "revoke", "nope", *d, check=False).returncode == 1
    assert run_cli("shop", "add", " ", *d, check=False).returncode == 1


def test_new_code_replaces_the_old_one(relay) -> None:  # type: ignore[no-untyped-def]
    slug, first = relay.add_shop("Codes")
    second = json.loads(relay.cli("shop", "code", slug, "--json"))["enrollment_code"]
    with relay.channel() as channel:
        from tests.relay.helpers import code_of

        assert code_of(lambda: enroll(channel, slug, first)) is not None
        kiosk = enroll(channel, slug, second.lower())  # typed codes are case-insensitive
        assert get_shop(channel, slug).public_key == kiosk.public_key


def _single_head() -> str:
    """The one head revision of the relay's migrations (two heads would need a merge)."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import relay_grpc

    config = Config()
    config.set_main_option("script_location", str(Path(relay_grpc.__file__).parent / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads
    return heads[0]


def test_alembic_upgrade_on_fresh_postgres(make_pg_database) -> None:  # type: ignore[no-untyped-def]
    url = make_pg_database()
    done = run_cli("db", "upgrade", "--database-url", url)
    assert "current" in done.stdout
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        seq_type = conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'job_events' AND column_name = 'shop_sequence'"
        ).fetchone()[0]
    assert {"shops", "enrollment_codes", "jobs", "job_files", "job_events", "alembic_version"} <= tables
    head = _single_head()
    assert version == head and seq_type == "bigint"
    assert run_cli("db", "current", "--database-url", url).stdout.strip() == head
    # Idempotent, and the schema matches the models (nothing to autogenerate).
    run_cli("db", "upgrade", "--database-url", url)
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import relay_grpc.store.models  # noqa: F401
    from relay_grpc.store.db import sync_url

    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_several_kiosks_from_the_cli(relay) -> None:  # type: ignore[no-untyped-def]
    """`shop code --kiosk`, `shop kiosks`, `shop revoke-kiosk`: the other kiosk keeps its token."""
    slug, first = relay.add_shop("Counters")
    with relay.channel() as channel:
        one = enroll(channel, slug, first)
        second = json.loads(relay.cli("shop", "code", slug, "--kiosk", "Tablet", "--json"))["enrollment_code"]
        two = enroll(channel, slug, second)
        assert [bytes(k.public_key) for k in get_shop(channel, slug).kiosk_keys] == [one.public_key, two.public_key]
        assert "revoked kiosk 'Tablet'" in relay.cli("shop", "revoke-kiosk", slug, "Tablet")
        listed = json.loads(relay.cli("shop", "kiosks", slug, "--json"))
        assert [(k["label"], k["revoked"]) for k in listed] == [("Counter 1", False), ("Tablet", True)]
        assert [bytes(k.public_key) for k in get_shop(channel, slug).kiosk_keys] == [one.public_key]


def test_migration_gives_an_enrolled_shop_its_kiosk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0005 copies each enrolled shop's key and token into `kiosks` as "Counter 1"."""
    import asyncio
    import sqlite3

    from relay_grpc.config import RelayConfig
    from relay_grpc.shops import ShopService
    from relay_grpc.store.db import Database
    from relay_grpc.store.migrate import upgrade
    from relay_grpc.tokens import hash_token, new_token
    from tests.relay.helpers import new_public_key

    url = f"sqlite:///{tmp_path / 'relay.db'}"
    upgrade(url, "0004")
    key, token = new_public_key(), new_token()
    with sqlite3.connect(tmp_path / "relay.db") as conn:
        conn.execute(
            "INSERT INTO shops (id, slug, display_name, public_key, key_fingerprint, token_hash, created_at,"
            " last_sequence) VALUES ('s1', 'old-shop', 'Old Shop', ?, ?, ?, 1.0, 0)",
            (key, hashlib.sha256(key).digest(), hash_token(token)),
        )
    upgrade(url)

    async def check() -> None:
        db = Database.open(url)
        try:
            shops = ShopService(db, RelayConfig(data_dir=tmp_path))
            assert (await shops.authenticate(token)).id == "s1"
            profile = await shops.get_profile("old-shop")
            assert [(k.label, k.public_key) for k in profile.kiosk_keys] == [("Counter 1", key)]
        finally:
            await db.dispose()

    asyncio.run(check())
