"""Pseudonyms: keyed HMAC in SQL, an append-only mapping to sequence numbers, and key handling."""

import hashlib
import hmac

import duckdb
import polars as pl
import pytest

from cohort import storage
from cohort.privacy.pseudonym import (
    MissingKeyError,
    ProjectKey,
    attach_mapping,
    extend_mapping,
    install_hmac,
    load_key,
)


def _key(project: str = "p", byte: int = 7) -> ProjectKey:
    return ProjectKey(project, bytes([byte]) * 32, "test")


def test_sql_hmac_equals_rfc_2104() -> None:
    con = duckdb.connect()
    key = _key()
    install_hmac(con, key)
    got = con.execute("select keyed_hash('85073003328')").fetchall()[0][0]
    assert got == hmac.new(bytes([7]) * 32, b"85073003328", hashlib.sha256).hexdigest()


def test_mapping_is_append_only_and_stable(tmp_path) -> None:
    con = storage.connect()
    install_hmac(con, _key())
    first = extend_mapping(con, tmp_path, "person", "select * from (values ('a'), ('b'), ('c'), (null)) t(x)")
    assert first == {"existing": 0, "added": 3}
    attach_mapping(con, tmp_path, "person")
    before = dict(con.execute("select hash, seq from person_map").fetchall())
    second = extend_mapping(con, tmp_path, "person", "select * from (values ('b'), ('d'), ('e')) t(x)")
    assert second == {"existing": 3, "added": 2}
    attach_mapping(con, tmp_path, "person")
    after = dict(con.execute("select hash, seq from person_map").fetchall())
    assert all(after[h] == s for h, s in before.items())  # numbers once given never change
    assert sorted(after.values()) == [1, 2, 3, 4, 5]
    assert set(after.values()) - set(before.values()) == {4, 5}


def test_two_keys_give_unrelated_hashes(tmp_path) -> None:
    ids = "select 'id' || range::VARCHAR from range(50)"
    hashes = []
    for byte in (1, 2):
        con = storage.connect()
        install_hmac(con, _key(byte=byte))
        extend_mapping(con, tmp_path / str(byte), "person", ids)
        hashes.append(
            set(pl.read_parquet(storage.partition_file(tmp_path / str(byte) / "_mapping", "person"))["hash"])
        )
    assert not hashes[0] & hashes[1]


def test_missing_key_refuses_outside_demo(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("COHORT_DEMO", raising=False)
    monkeypatch.delenv("COHORT_KEY_TOY", raising=False)
    monkeypatch.delenv("COHORT_KEY_DIR", raising=False)
    with pytest.raises(MissingKeyError, match="COHORT_KEY_TOY"):
        load_key("toy", keys_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing was made


def test_demo_key_is_made_once_and_never_shown(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COHORT_DEMO", "1")
    monkeypatch.delenv("COHORT_KEY_TOY", raising=False)
    key = load_key("toy", keys_dir=tmp_path)
    again = load_key("toy", keys_dir=tmp_path)
    secret = (tmp_path / "toy.key").read_text().strip()
    assert key.pads() == again.pads()
    assert secret not in repr(key) and secret not in str(key)
    assert (tmp_path / "toy.key").stat().st_mode & 0o077 == 0  # readable by the owner only
