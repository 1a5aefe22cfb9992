"""Stub of ``mlio.integ.numpy`` (see ``mlio/__init__.py``)."""


def _unavailable(*args: object, **kwargs: object) -> object:
    raise NotImplementedError("mlio is not available in the oracle environment (Pipe mode and parquet only)")


as_arrow_file = as_numpy = to_coo_matrix = _unavailable
