"""Keys and pseudonyms: no key, no run; the key never shows; two projects cannot be linked."""

import base64
import pickle
import secrets
from datetime import date, timedelta

import dagster as dg
import numpy as np
import polars as pl
import pytest

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
    assert "ab" * 30 not in str(err.value) and err.value.__cause__ is None and err.value.__suppress_context__
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
