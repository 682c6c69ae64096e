"""Redis Cluster rules, checked statically: every Lua script names only keys passed in KEYS (a
key built inside a script could live on another slot), every key of one show carries the same
hash tag behind the deployment's prefix, and the Redis URL forms parse as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from admitone.booking_core import keys as booking_keys
from admitone.queue import keys as queue_keys
from admitone.redis_client import create_redis, parse_redis_url
from admitone.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2] / "admitone"
SCRIPTS = sorted(ROOT.rglob("*.lua"))
# redis.call('<COMMAND>', <first argument>: the key of every keyed command used here)
CALL = re.compile(r"redis\.call\(\s*'([A-Z]+)'\s*(?:,\s*([^,)]+))?")
KEYLESS = {"TIME"}
KEY_NAME = re.compile(r"KEYS\[\d+\]|K_[A-Z_]+")
ALIAS = re.compile(r"\b(K_[A-Z_]+)\b")


def _tag(key: str) -> str:
    """The part of a key Redis Cluster hashes: the first non-empty ``{…}``."""
    match = re.search(r"\{([^}]+)\}", key)
    assert match is not None, key
    return match.group(1)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_key_a_script_touches_comes_from_keys(script: Path) -> None:
    """Each keyed redis.call names KEYS[n] or a K_ alias of it, never a string it builds."""
    text = script.read_text(encoding="utf-8")
    calls = CALL.findall(text)
    assert calls or script.name == "lib.lua"
    for command, first in calls:
        if command in KEYLESS:
            continue
        assert KEY_NAME.fullmatch(first.strip()), f"{script.name}: {command} {first}"


def test_the_k_aliases_are_keys_entries() -> None:
    """lib.lua's K_ names are bound to KEYS[1..7] and nothing else."""
    lib = (ROOT / "queue" / "scripts" / "lib.lua").read_text(encoding="utf-8")
    names, _, values = next(
        line for line in lib.splitlines() if line.startswith("local K_CONFIG")
    ).partition("=")
    aliases = ALIAS.findall(names)
    more = next(line for line in lib.splitlines() if line.startswith("local K_VISITORS"))
    aliases += ALIAS.findall(more.partition("=")[0])
    bound = re.findall(r"KEYS\[(\d+)\]", values + more.partition("=")[2])
    assert aliases == ["K_CONFIG", "K_STATE", "K_WAITING", "K_VISITORS", "K_ACTIVE",
                       "K_ADMISSIONS", "K_REVOKED"]
    assert bound == [str(n) for n in range(1, 8)]


def test_one_show_s_keys_share_one_hash_tag_behind_the_prefix() -> None:
    """Room keys, the proof-of-work key, the seat-map cache and channel: one slot per show."""
    room = [*queue_keys.RoomKeys.of("tickets", "s1"), queue_keys.pow_key("tickets", "s1", "c")]
    booking = [booking_keys.seat_map_key("tickets", "s1"),
               booking_keys.seat_channel("tickets", "s1")]
    assert {_tag(key) for key in room + booking} == {"show:s1"}
    assert all(key.startswith("tickets:") for key in room + booking)
    lease = [queue_keys.lease_key("tickets"), queue_keys.fence_key("tickets")]
    assert {_tag(key) for key in lease} == {"scheduler"}
    assert queue_keys.lease_key("a") != queue_keys.lease_key("b")


def test_cluster_and_sentinel_urls_parse_as_documented() -> None:
    """Hosts, credentials, master name and database come out of the two URL forms."""
    cluster = parse_redis_url("redis+cluster://:pw@10.0.0.1:7000,10.0.0.2")
    assert cluster is not None
    assert (cluster.kind, cluster.hosts, cluster.password) == (
        "cluster", [("10.0.0.1", 7000), ("10.0.0.2", 6379)], "pw")
    sentinel = parse_redis_url(
        "rediss+sentinel://app:s3@s1:26379,s2/mymaster/2?sentinel_password=x")
    assert sentinel is not None
    assert (sentinel.kind, sentinel.tls, sentinel.hosts, sentinel.master, sentinel.db) == (
        "sentinel", True, [("s1", 26379), ("s2", 26379)], "mymaster", 2)
    assert (sentinel.username, sentinel.password, sentinel.options) == (
        "app", "s3", {"sentinel_password": "x"})
    assert parse_redis_url("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize("environ", [
    {"ADMITONE_REDIS_URL": "redis+sentinel://s1:26379"},  # no master name
    {"ADMITONE_REDIS_URL": "redis+cluster://n1:7000/3"},  # a cluster has only database 0
    {"ADMITONE_REDIS_URL": "memcached://x"},
    {"ADMITONE_REDIS_PREFIX": "a{b}"},  # braces would move the hash tag
    {"ADMITONE_REDIS_PREFIX": "a*"},  # a glob character in the seat-event pattern
    {"ADMITONE_DATABASE_POOL_SIZE": "0"},
    {"ADMITONE_DATABASE_LOCK_TIMEOUT_MS": "-1"},
    {"ADMITONE_DATABASE_REPLICA_URL": "mysql://replica/db"},
])
def test_bad_redis_and_database_settings_name_their_variable(environ: dict[str, str]) -> None:
    """A malformed URL, prefix or pool setting stops start-up naming the variable."""
    with pytest.raises(SettingsError, match=next(iter(environ))):
        load_settings(environ)


async def test_an_unreachable_cluster_is_a_connection_error() -> None:
    """No node answering is Redis being down (fail closed/open, 503), not an unexpected error."""
    redis = create_redis("redis+cluster://127.0.0.1:1")
    try:
        with pytest.raises(RedisConnectionError):
            await redis.get("x")
    finally:
        await redis.aclose()
