"""Keys and pseudonyms: no key, no run; the key never shows; two projects cannot be linked."""

import base64
import os
import pickle
import secrets
from datetime import date, timedelta

import dagster as dg
import numpy as np
import polars as pl
import pytest
from conftest import run_cohort

from cohort import storage
from cohort.classifications.insz import make_insz
from cohort.privacy import pseudonym, scan
from cohort.resources import LakeResource

PROJECT = "toyproj"
IDS = [make_insz(date(1950, 1, 1) + timedelta(days=i * 3), 1 + i % 997) for i in range(40)]


@dg.asset
def toy_panel(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Pseudonymises a few national numbers and exports the sequence numbers, logging what it can."""
    paths = lake.paths()
    key = pseudonym.load_key(PROJECT, paths.keys)
    context.log.info(f"using {key!r} (fingerprint {key.fingerprint}) from {key.source}")
    con = lake.connect()
    pseudonym.install_hmac(con, key)
    con.register("src_frame", pl.DataFrame({"insz": IDS}))
    secure = paths.secure / PROJECT
    counts = pseudonym.extend_mapping(con, secure, "person", "SELECT insz FROM src_frame")
    view = pseudonym.attach_mapping(con, secure, "person")
    rec = scan.write_export(
        con,
        lake.export_file(PROJECT, "panel"),
        "panel",
        {"person_seq": "pseudonym"},
        paths,
        context.run.run_id,
        sql=f"SELECT m.seq AS person_seq FROM src_frame s JOIN {view} m ON m.hash = keyed_hash(s.insz) ORDER BY 1",
    )
    try:  # a failing query in a keyed connection: its message must not carry key material
        con.execute("SELECT CAST(keyed_hash(insz) AS INTEGER) FROM src_frame").fetchall()
    except Exception as exc:  # noqa: BLE001
        context.log.warning(f"expected failure: {exc}")
    pseudonym.uninstall_hmac(con)
    return dg.MaterializeResult(
        metadata={"key": str(key), "fingerprint": key.fingerprint, **counts, "sha256": rec.sha256}
    )


@dg.asset
def toy_failing(context: dg.AssetExecutionContext, lake: LakeResource) -> None:
    """Fails after loading the key, with the key object in the error message."""
    key = pseudonym.load_key(PROJECT, lake.paths().keys)
    con = lake.connect()
    pseudonym.install_hmac(con, key)
    raise RuntimeError(f"deliberate failure with {key} and {vars(type(key)).keys()}")


def _needles(secret: bytes) -> tuple[list[str], list[bytes]]:
    key = pseudonym.ProjectKey(PROJECT, secret, "test")
    ipad, opad = key.pads()
    texts = [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        ipad.hex(),
        opad.hex(),
        ipad.hex().upper(),
        opad.hex().upper(),
    ]
    return texts, [secret, ipad[:32], opad[:32]]


def _materialize(asset, tmp_path, instance):
    return dg.materialize(
        [asset],
        resources={"lake": LakeResource(data_dir=str(tmp_path / "data"))},
        instance=instance,
        raise_on_error=False,
    )


def test_the_key_never_appears_in_logs_events_metadata_errors_or_files(tmp_path, monkeypatch, capfd):
    secret = secrets.token_bytes(32)
    monkeypatch.setenv("COHORT_KEY_TOYPROJ", secret.hex())
    monkeypatch.delenv("COHORT_DEMO", raising=False)
    (tmp_path / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        ok = _materialize(toy_panel, tmp_path, instance)
        failed = _materialize(toy_failing, tmp_path, instance)
        assert ok.success and not failed.success
        logs = [str(e) for run in (ok, failed) for e in instance.all_logs(run.run_id)]
        logs += [repr(e) for run in (ok, failed) for e in run.all_events]
    out, err = capfd.readouterr()
    text = "\n".join(logs) + out + err
    assert "deliberate failure with ProjectKey(project='toyproj'" in text  # the failure was captured
    assert "expected failure" in text
    texts, blobs = _needles(secret)
    for needle in texts:
        assert needle not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "data.parquet" and "exports" in p.parts for p in files)
    assert any(p.suffix == ".db" for p in files)  # Dagster's own event storage was written and is searched
    for p in files:
        data = p.read_bytes()
        for needle in texts:
            assert needle.encode() not in data, p
        for blob in blobs:
            assert blob not in data, p
    with pytest.raises(TypeError):
        pickle.dumps(pseudonym.load_key(PROJECT))


def test_outside_the_demo_a_run_without_a_key_refuses_to_start(tmp_path, monkeypatch):
    for var in ("COHORT_KEY_TOYPROJ", "COHORT_KEY_DIR", "COHORT_DEMO"):
        monkeypatch.delenv(var, raising=False)
    result = _materialize(toy_panel, tmp_path, dg.DagsterInstance.ephemeral())
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error
    assert failure.cause.cls_name == "MissingKeyError"
    assert "no pseudonymisation key for project toyproj" in failure.cause.message
    assert not (tmp_path / "data" / "exports").exists() and not (tmp_path / "data" / "secure").exists()
    # a malformed key is refused without repeating it
    monkeypatch.setenv("COHORT_KEY_TOYPROJ", "zz-not-hex-" + "ab" * 30)
    with pytest.raises(pseudonym.InvalidKeyError) as err:
        pseudonym.load_key(PROJECT)
    assert "ab" * 30 not in str(err.value) and err.value.__cause__ is None and err.value.__context__ is None
    # the demo makes a local key, readable only by its owner
    monkeypatch.setenv("COHORT_DEMO", "1")
    monkeypatch.delenv("COHORT_KEY_TOYPROJ")
    key = pseudonym.load_key(PROJECT, tmp_path / "keys")
    assert (tmp_path / "keys" / "toyproj.key").stat().st_mode & 0o077 == 0 and "demo" in key.source


def _mapping(tmp_path, name: str, secret: bytes, ids: list[str]) -> pl.DataFrame:
    """(insz, hash, seq) under one project's key."""
    con = storage.connect()
    pseudonym.install_hmac(con, pseudonym.ProjectKey(name, secret, "test"))
    con.register("ids", pl.DataFrame({"insz": ids}))
    pseudonym.extend_mapping(con, tmp_path / name, "person", "SELECT insz FROM ids")
    view = pseudonym.attach_mapping(con, tmp_path / name, "person")
    return con.sql(
        f"SELECT i.insz, m.hash, m.seq FROM ids i JOIN {view} m ON m.hash = keyed_hash(i.insz) ORDER BY i.insz"
    ).pl()


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = a.argsort().argsort(), b.argsort().argsort()
    return float(np.corrcoef(ra, rb)[0, 1])


def test_two_projects_pseudonyms_cannot_be_linked(tmp_path):
    ids = [make_insz(date(1940, 1, 1) + timedelta(days=i % 25_000), 1 + (i * 7) % 997) for i in range(10_000)]
    ids = sorted(set(ids))
    a = _mapping(tmp_path, "proj_a", secrets.token_bytes(32), ids)
    b = _mapping(tmp_path, "proj_b", secrets.token_bytes(32), ids)
    n = len(ids)
    assert a.height == b.height == n and sorted(a["seq"]) == list(range(1, n + 1))
    # no shared hash values: joining the two mapping tables on the hash gives nothing
    assert not set(a["hash"]) & set(b["hash"])
    # the sequence numbers of the two projects are unrelated (a random permutation of each other)...
    assert abs(_spearman(a["seq"].to_numpy(), b["seq"].to_numpy())) < 0.05
    # ...and unrelated to the national number (birth date order) itself
    assert abs(_spearman(a["seq"].to_numpy(), np.arange(n))) < 0.05
    # an attacker with project A's mapping who joins B's research table on the sequence number
    # links no more people than chance (expected: 1 of n)
    by_seq = a.join(b, on="seq", suffix="_b")
    assert (by_seq["insz"] == by_seq["insz_b"]).sum() <= 5
    # while within one project the numbers are stable: a rerun with the same key changes nothing
    again = _mapping(tmp_path / "rerun", "proj_a2", bytes(32 * [7]), ids)
    same = _mapping(tmp_path / "rerun2", "proj_a2", bytes(32 * [7]), ids)
    assert again.equals(same)


# --------------------------------------------------------------------------- demo mode and key format
@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", " yes\n"])
def test_demo_mode_is_on_only_for_an_explicit_true_value(value, monkeypatch):
    monkeypatch.setenv("COHORT_DEMO", value)
    assert pseudonym.demo_mode() is True


@pytest.mark.parametrize("value", [None, "", " ", "0", "false", "False", "no", "NO", "off", "OFF"])
def test_demo_mode_is_off_when_unset_or_explicitly_false(value, monkeypatch, tmp_path):
    if value is None:
        monkeypatch.delenv("COHORT_DEMO", raising=False)
    else:
        monkeypatch.setenv("COHORT_DEMO", value)
    for var in ("COHORT_KEY_TOYPROJ", "COHORT_KEY_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert pseudonym.demo_mode() is False
    # and so no key is made: no key, no run
    with pytest.raises(pseudonym.MissingKeyError, match="no pseudonymisation key for project toyproj"):
        pseudonym.load_key(PROJECT, tmp_path / "keys")
    assert not (tmp_path / "keys").exists()


@pytest.mark.parametrize("value", ["on", "2", "y", "enabled", "demo", "true please"])
def test_an_unknown_demo_value_is_refused_by_name(value, monkeypatch, tmp_path):
    monkeypatch.setenv("COHORT_DEMO", value)
    for var in ("COHORT_KEY_TOYPROJ", "COHORT_KEY_DIR"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(pseudonym.DemoModeError, match="COHORT_DEMO must be 1, true or yes"):
        pseudonym.demo_mode()
    with pytest.raises(pseudonym.DemoModeError):
        pseudonym.load_key(PROJECT, tmp_path / "keys")
    assert not (tmp_path / "keys").exists()


BAD_KEYS = {
    "63 hex": secrets.token_hex(32)[:63],
    "65 hex": secrets.token_hex(33)[:65],
    "16 bytes": secrets.token_hex(16),
    "64 bytes": secrets.token_hex(64),
    "not hex": "g" + secrets.token_hex(32)[1:],
    "space inside": secrets.token_hex(16) + " " + secrets.token_hex(16)[1:],
    "base64": base64.b64encode(secrets.token_bytes(32)).decode(),
    "0x prefix": "0x" + secrets.token_hex(32)[2:],
}


@pytest.mark.parametrize("kind", sorted(BAD_KEYS))
def test_a_key_that_is_not_64_hex_characters_is_refused_without_showing_it(kind, monkeypatch, tmp_path):
    bad = BAD_KEYS[kind]
    monkeypatch.delenv("COHORT_DEMO", raising=False)
    monkeypatch.delenv("COHORT_KEY_DIR", raising=False)
    monkeypatch.setenv("COHORT_KEY_TOYPROJ", bad)
    with pytest.raises(pseudonym.InvalidKeyError, match="not 64 hexadecimal characters") as from_env:
        pseudonym.load_key(PROJECT)
    monkeypatch.delenv("COHORT_KEY_TOYPROJ")
    (tmp_path / "toyproj.key").write_text(bad + "\n")
    monkeypatch.setenv("COHORT_KEY_DIR", str(tmp_path))
    with pytest.raises(pseudonym.InvalidKeyError, match="not 64 hexadecimal characters") as from_file:
        pseudonym.load_key(PROJECT)
    for err, where in ((from_env, "COHORT_KEY_TOYPROJ"), (from_file, "toyproj.key in COHORT_KEY_DIR")):
        message = str(err.value)
        assert where in message
        # neither the value nor a piece of it long enough to help a guess
        assert not any(bad[i : i + 8] in message for i in range(len(bad) - 7)), message
        assert err.value.__cause__ is None and err.value.__context__ is None


def test_a_key_of_64_hex_characters_is_accepted_in_any_case(monkeypatch, tmp_path):
    secret = secrets.token_bytes(32)
    monkeypatch.delenv("COHORT_KEY_DIR", raising=False)
    monkeypatch.setenv("COHORT_KEY_TOYPROJ", secret.hex().upper())
    from_env = pseudonym.load_key(PROJECT)
    monkeypatch.delenv("COHORT_KEY_TOYPROJ")
    (tmp_path / "toyproj.key").write_text(secret.hex() + "\n")
    monkeypatch.setenv("COHORT_KEY_DIR", str(tmp_path))
    from_file = pseudonym.load_key(PROJECT)
    assert (
        from_env.fingerprint
        == from_file.fingerprint
        == pseudonym.ProjectKey(PROJECT, secret, "t").fingerprint
    )


def test_a_build_with_demo_off_and_no_key_refuses(tmp_path, small_warehouse):
    """``COHORT_DEMO=no`` once switched demo mode on, which made a local key: now the real command
    line refuses to pseudonymise, and nothing is made (no key, no mapping, no export)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COHORT_", "DAGSTER_"))}
    # the suite's clock (conftest.py) stays: the test must not depend on the real date
    env.update(
        COHORT_DEMO="no", COHORT_WAREHOUSE_DIR=str(small_warehouse), COHORT_TODAY=os.environ["COHORT_TODAY"]
    )
    data = tmp_path / "data"
    result = run_cohort(
        ["project", "build", "labour_reserve", "--years", "2021", "--data-dir", str(data)], env, cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no pseudonymisation key for project labour_reserve" in result.stdout + result.stderr
    assert not (data / "keys").exists()
    assert not (data / "secure" / "labour_reserve").exists()
    assert not list((data / "exports").rglob("*.parquet"))
