"""A stand-in for ``mlio`` (conda-only), which the container's ``data_utils`` imports at the top but uses
only for Pipe mode and parquet.  Anything called here fails loudly, so a test can never pass through it."""


def __getattr__(name: str) -> object:
    raise NotImplementedError(f"mlio.{name} is not available in the oracle environment (Pipe mode and parquet only)")
