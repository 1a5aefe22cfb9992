from __future__ import annotations

from pathlib import Path

import numpy as np

from model_training.channels import channel_columns, render_channel, render_test
from tests.fixtures import load_dataset


def test_channel_columns_put_the_label_first_and_leave_out_drop() -> None:
    assert channel_columns(["a", "y_no", "b", "y_yes"], "y_yes", ["y_no"]) == ["y_yes", "a", "b"]


def test_channel_file_has_no_header_no_index_and_the_source_text(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "a,b,y\n1.50,x,1\n2,,0\n3,z,1\n")
    out = b"".join(render_channel(ds, np.array([2, 0, 1]), ["y", "a"]))
    assert out == b"1,3\n1,1.50\n0,2\n"


def test_test_file_has_header_index_and_every_column(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "a,b,y\n1,x,1\n2,,0\n")
    out = b"".join(render_test(ds, np.array([1, 0])))
    assert out == b",a,b,y\n1,2,,0\n0,1,x,1\n"


def test_fields_that_need_quotes_are_quoted_like_pandas(tmp_path: Path) -> None:
    import pandas as pd

    content = 'name,note,y\n"Smith, J","say ""hi""",1\nplain,"two\nlines",0\n'
    ds = load_dataset(tmp_path, content)
    out = b"".join(render_test(ds, np.array([0, 1])))
    reference = pd.read_csv(tmp_path / "data.csv", dtype=str, keep_default_na=False).to_csv().encode()
    assert out == reference


def test_rendering_in_chunks_equals_rendering_at_once(tmp_path: Path, monkeypatch) -> None:
    import model_training.channels as channels

    rows = "\n".join(f"{i},{i * 2}" for i in range(1000))
    ds = load_dataset(tmp_path, "y,x\n" + rows + "\n")
    order = np.random.RandomState(0).permutation(1000)
    whole = b"".join(render_channel(ds, order, ["y", "x"]))
    monkeypatch.setattr(channels, "CHUNK_ROWS", 7)
    chunks = list(render_channel(ds, order, ["y", "x"]))
    assert len(chunks) == 143
    assert b"".join(chunks) == whole


def test_a_channel_of_several_instances_is_a_multiple_of_the_instances_in_parts() -> None:
    """ShardedByS3Key gives each instance every N-th part: 5 parts by size on 4 instances gave one twice the rows."""
    from model_training.channels import part_count
    from model_training.config.run import build_config

    mb = 2**20
    by_size = build_config(part_size_mb=1)
    assert part_count(1000, 1000, 5 * mb - 1, by_size) == 5  # one instance: by size alone
    four = build_config(part_size_mb=1, instance_count=4)
    assert part_count(1000, 1000, 5 * mb - 1, four) == 8
    assert part_count(1000, 1000, 1000, four) == 4  # at least one each
    assert part_count(3, 3, 5 * mb, four) == 3  # never more parts than rows
    assert part_count(1000, 1000, 5 * mb - 1, build_config(part_size_mb=1, instance_count=2)) == 6
