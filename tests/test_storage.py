from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from pathlib import Path

import pytest

from model_training.errors import ConfigurationError
from model_training.output.local_store import LocalStore


def test_write_is_atomic_and_reports_size_and_sha256(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    obj = store.write("a/b/c.csv", [b"x,y\n", b"1,2\n"])
    assert obj.size_bytes == 8
    assert obj.sha256 == hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    assert obj.uri == (tmp_path / "a/b/c.csv").as_uri()
    assert store.read_bytes("a/b/c.csv") == b"x,y\n1,2\n"
    assert store.verify(obj)
    assert [p.name for p in (tmp_path / "a/b").iterdir()] == ["c.csv"]  # no temporary file left


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)

    def chunks():
        yield b"partial"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        store.write("k/file.csv", chunks())
    assert list((tmp_path / "k").iterdir()) == []


def test_verify_detects_a_changed_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    obj = store.write_bytes("f.csv", b"abc")
    assert store.verify(obj)
    time.sleep(0.02)  # past the file system's clock tick: a same-size rewrite within it is not seen
    (tmp_path / "f.csv").write_bytes(b"abd")
    assert not store.verify(obj)


def test_verify_detects_a_replaced_or_truncated_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    obj = store.write_bytes("f.csv", b"abc")
    (tmp_path / "other").write_bytes(b"abc")
    os.replace(tmp_path / "other", tmp_path / "f.csv")  # same bytes, another file
    assert not store.verify(obj)
    obj = store.write_bytes("g.csv", b"abc")
    (tmp_path / "g.csv").write_bytes(b"ab")
    assert not store.verify(obj)
    (tmp_path / "g.csv").unlink()
    assert not store.verify(obj)


def test_verify_hashes_a_file_it_did_not_write(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    obj = store.write_bytes("f.csv", b"abc")
    unstamped = dataclasses.replace(obj, stamp=None)
    assert store.verify(unstamped)
    (tmp_path / "f.csv").write_bytes(b"abd")
    assert not store.verify(unstamped)


@pytest.mark.parametrize("key", ["../escape.csv", "/abs.csv", "a/../../b.csv", "a//b.csv", "", "a/./b"])
def test_keys_that_escape_the_root_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigurationError):
        LocalStore(tmp_path / "root").write_bytes(key, b"x")


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(ConfigurationError, match="outside"):
        LocalStore(root).write_bytes("link/file.csv", b"x")
    assert not (outside / "file.csv").exists()


def test_list(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.write_bytes("p/x/1.csv", b"1")
    store.write_bytes("p/2.csv", b"2")
    assert list(store.list("p")) == ["p/2.csv", "p/x/1.csv"]
    assert list(store.list("missing")) == []
