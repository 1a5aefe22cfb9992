from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from model_training.channels import render_channel
from model_training.data.checks import check_numeric, require_columns
from model_training.data.local import read_local_source
from model_training.data.names import dataset_name
from model_training.errors import DatasetError
from tests.fixtures import load_dataset, write_csv, zip_of


def test_source_identity(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "My Data.csv", "a,b\n1,2\n")
    info, data = read_local_source(path)
    assert info.uri == path.resolve().as_uri()
    assert info.name == "My-Data"
    assert info.size_bytes == 8
    assert info.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert data == b"a,b\n1,2\n"


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("a/b/bank.csv", "bank"),
        ("x.CSV", "x"),
        ("d/part.csv.gz", "part"),
        ("noext", "noext"),
        ("My Data (v2).csv", "My-Data-v2"),
        ("données+été.csv", "données-été"),
        ("...csv", "dataset"),
        ("..hidden.csv", "hidden"),
    ],
)
def test_dataset_name(key: str, name: str) -> None:
    assert dataset_name(key) == name


def test_values_keep_their_source_text(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "a,b\n1.50,0.1000000000000000055511151231257827\n-0,1e5\n")
    assert ds.column("a").to_pylist() == ["1.50", "-0"]
    assert ds.column("b").to_pylist() == ["0.1000000000000000055511151231257827", "1e5"]


def test_bom_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, b"\xef\xbb\xbfy,x\r\n1,2\r\n0,3")
    assert ds.columns == ("y", "x")
    assert ds.column("y").to_pylist() == ["1", "0"]
    assert ds.column("x").to_pylist() == ["2", "3"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        read_local_source(tmp_path / "nope.csv")


@pytest.mark.parametrize(("content", "message"), [("", "empty"), ("\n\n  \n", "empty"), ("a,b\n", "no data rows")])
def test_empty_inputs(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(tmp_path, content)


def test_duplicate_column_names(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="duplicate column names in the header: a"):
        load_dataset(tmp_path, "a,b,a\n1,2,3\n")


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path, "a,b,c\n1,2,3\n4,5\n6,7,8\n")
    assert "line 3 has 2 fields, the header has 3" in info.value.message
    assert "data.csv" in info.value.message


def test_missing_label_names_the_columns_that_exist(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "age,y_yes_,balance\n1,2,3\n")
    with pytest.raises(DatasetError) as info:
        require_columns(ds, ["y_yes"], "label")
    assert "the label column 'y_yes' is not in the header" in info.value.message
    assert "did you mean 'y_yes_'" in info.value.hint
    assert "columns are: age, y_yes_, balance" in info.value.hint


def test_non_numeric_feature_names_column_line_and_value(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "y,x,when\n1,2,3\n0,yes,4\n1,3,2026-01-01\n")
    with pytest.raises(DatasetError) as info:
        check_numeric(ds, ["x", "when"], allow_empty=True, role="feature")
    assert "feature 'x' on line 3 is not a number: 'yes'" in info.value.message
    assert "--drop x" in info.value.hint
    with pytest.raises(DatasetError, match="feature 'when' on line 4 is not a number: '2026-01-01'"):
        check_numeric(ds, ["when"], allow_empty=True, role="feature")


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", " 1", "1,5", "0x10", "True"])
def test_values_the_container_cannot_read_are_refused(tmp_path: Path, value: str) -> None:
    ds = load_dataset(tmp_path, f'y,x\n1,2\n0,"{value}"\n')
    with pytest.raises(DatasetError, match="line 3"):
        check_numeric(ds, ["x"], allow_empty=True)


@pytest.mark.parametrize("value", ["1", "-2.5", ".5", "5.", "1e-3", "+7", "1E+10", "0.0"])
def test_decimal_forms_are_accepted_and_written_as_given(tmp_path: Path, value: str) -> None:
    ds = load_dataset(tmp_path, f"y,x\n1,{value}\n")
    assert check_numeric(ds, ["x", "y"], allow_empty=False) is None  # a refused value raises DatasetError
    # the container parses the value itself: the channel carries the source's text, not a normalised number
    assert b"".join(render_channel(ds, np.array([0]), ["y", "x"])) == f"1,{value}\n".encode()


def test_empty_feature_is_missing_but_empty_label_is_refused(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "y,x\n1,\n,2\n")
    check_numeric(ds, ["x"], allow_empty=True)
    with pytest.raises(DatasetError, match="label 'y' on line 3 is empty"):
        check_numeric(ds, ["y"], allow_empty=False, role="label")


def test_invalid_utf8_header(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not valid UTF-8"):
        load_dataset(tmp_path, b"a,\xff\xfe\n1,2\n")


def test_invalid_utf8_in_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"line 2 \(column 'b'\) is not valid UTF-8"):
        load_dataset(tmp_path, b"a,b\n1,\xff\n")


def test_a_bom_on_a_blank_line_before_the_header(tmp_path: Path) -> None:
    dataset = load_dataset(tmp_path, "\ufeff\n\nx,y\n1,0\n2,1\n")
    assert dataset.columns == ("x", "y") and dataset.num_rows == 2 and dataset.header_lines == 3


def test_a_number_followed_by_a_quoted_line_break_is_not_a_number(tmp_path: Path) -> None:
    dataset = load_dataset(tmp_path, 'x,y\n"1\n",0\n2,1\n')
    with pytest.raises(DatasetError, match=r"is not a number: '1\\n'"):
        check_numeric(dataset, ["x"], allow_empty=True, role="feature")


def test_a_file_of_only_a_bom_names_line_1(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="line 1 has no column names"):
        load_dataset(tmp_path, "\ufeff")


_TEXT = "f1,f2,y_no,y_yes\n" + "1,2,0,1\n" * 5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_TEXT.encode("utf-16-le"), r"the file is UTF-16 \(little-endian, no byte-order mark\), not UTF-8"),
        (_TEXT.encode("utf-16"), r"the file is UTF-16 \(little-endian, with a byte-order mark\), not UTF-8"),
        (_TEXT.encode("utf-16-be"), r"the file is UTF-16 \(big-endian, no byte-order mark\)"),
        (_TEXT.encode("utf-32"), r"the file is UTF-32 \(little-endian, with a byte-order mark\)"),
        (_TEXT.encode("utf-32-be"), r"the file is UTF-32 \(big-endian, no byte-order mark\)"),
        (zip_of(_TEXT), r"this is a zip archive \(an \.xlsx workbook is one\), not CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), r"an Office document \(\.xls\), not CSV"),
        (b"PAR1\x15\x04\x15" + bytes(100) + b"PAR1", "a Parquet file, not CSV"),
    ],
    ids=["utf16le", "utf16le-bom", "utf16be", "utf32-bom", "utf32be", "zip", "xls", "parquet"],
)
def test_other_encodings_and_binary_formats_are_named(tmp_path: Path, body: bytes, message: str) -> None:
    """Issue 11 item 12: not 'the label column is not in the header', nor the columns 'PK\\x03\\x04...'."""
    with pytest.raises(DatasetError, match=message) as caught:
        load_dataset(tmp_path, body)
    assert caught.value.hint and "\x00" not in str(caught.value)


def test_a_header_named_par1_is_still_csv(tmp_path: Path) -> None:
    assert load_dataset(tmp_path, "PAR1,y\n1,0\n2,1\n").columns == ("PAR1", "y")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("f1,f\x002,y", r"header column 2 \('f\\x002'\) holds a NUL byte"),
        ("\ufefff1,f2,y", r"header column 1 \('\\ufefff1'\) holds a second byte-order mark"),
        ("f1,f2,y\ufeff", r"header column 3 \('y\\ufeff'\) holds a second byte-order mark"),
        ("f1,f\x1b[31m2,y", r"header column 2 \('f\\x1b\[31m2'\) holds the control character '\\x1b'"),
    ],
    ids=["nul", "second-bom", "bom-inside", "escape"],
)
def test_a_header_name_with_a_nul_a_control_character_or_a_second_bom_is_refused(
    tmp_path: Path, header: str, message: str
) -> None:
    """Issue 11 item 12: such names were copied into the test file."""
    with pytest.raises(DatasetError, match=message):
        load_dataset(tmp_path, "\ufeff" + header + "\n1,2,0\n3,4,1\n")


@pytest.mark.parametrize("content", ["a,b\n1,2\n3,4\n", 'a,b\n"1",2\n3,4\n'], ids=["plain", "quoted"])
def test_with_source_carries_every_cached_value(tmp_path: Path, content: str) -> None:
    # the renderer's caches too (channel_lines, render_table), which a hand-kept list of names once missed
    import numpy as np

    from model_training.channels import render_rows

    dataset = load_dataset(tmp_path, content)
    check_numeric(dataset, ["a", "b"], allow_empty=False)
    dataset.numbers("a")
    render_rows(dataset, np.arange(2), ["b", "a"])
    kept = dict(dataset._cache)
    assert kept, "nothing was cached"
    other = dataset.with_source(dataset.source.__class__(dataset.source.uri, "other", 1, "ab" * 32))
    assert other.source.name == "other"
    assert other._cache.keys() == kept.keys()
    assert all(other._cache[key] is value for key, value in kept.items())
    for key in kept:  # nothing is computed again
        other.cached(key, lambda: pytest.fail("computed again"))


@pytest.mark.parametrize(
    ("text", "values", "short"),
    [("0", [0.0, 1.0], True), ("0.0", [0.0, 1.0], True), ("-1", [-1.0, 1.0], False), ("1e1", [10.0, 1.0], False)],
)
def test_labels_of_an_unchecked_index_are_read_from_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, values: list[float], short: bool
) -> None:
    # the streaming split's second pass indexes without the numeric check (pass 1 made it): 0/1 and 0.0/1.0
    # labels are still read from their bytes (issue 16: 1.2 s of CPU on 484 MB through the text columns)
    from model_training.data.dataset import Dataset

    dataset = load_dataset(tmp_path, f"a,y\n5,{text}\n6,{'1' if '.' not in text else '1.0'}\n")
    assert dataset.row_index(fields=[1]) is not None  # indexed, numbers not checked
    texts = []
    original = Dataset.column
    monkeypatch.setattr(Dataset, "column", lambda self, name: texts.append(name) or original(self, name))
    assert dataset.numbers("y").tolist() == values
    assert texts == ([] if short else ["y"])  # other forms: through the exact parse, as before


def test_short_decimals_read_a_word_at_a_time_as_they_read_byte_by_byte() -> None:
    # the 0/1 and 0.0/1.0 labels are read in one 4-byte gather per row (issue 16); the fields near the data's end,
    # where four bytes do not fit, byte by byte: both must give the same values, and refuse the same forms
    from model_training.data.dataset import _short_decimals, _short_decimals_bytewise

    rng = np.random.default_rng(16)
    alphabet = np.frombuffer(b"0123456789.,\n-e", dtype=np.uint8)
    accepted = 0
    for _ in range(5000):
        n = int(rng.integers(1, 24))
        data = alphabet[rng.integers(0, 12 if rng.random() < 0.7 else alphabet.size, n)]
        starts = np.sort(rng.integers(0, n, int(rng.integers(1, 5))))
        lengths = rng.choice([1, 3], starts.size) if rng.random() < 0.8 else rng.integers(0, 4, starts.size)
        ends = np.minimum(starts + lengths, n)
        word, byte = _short_decimals(data, starts, ends), _short_decimals_bytewise(data, starts, ends - starts)
        assert (word is None) == (byte is None), (data.tobytes(), starts, ends)
        if word is not None:
            accepted += 1
            assert word.tolist() == byte.tolist() == [float(data[s:e].tobytes()) for s, e in zip(starts, ends, strict=True)]
    assert accepted > 500  # the accepted forms were tried, not only refusals
