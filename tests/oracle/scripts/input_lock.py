"""For the scripts here (each runs in an oracle environment): the container's data loading links a channel's
files into the fixed folder ``/tmp/sagemaker_xgboost_input_data`` (``data_utils.py``: rmtree, then mkdir), so two
scripts loading data at once on this machine (two test workers, two test sessions) read each other's files.
:func:`input_data_folder` holds an exclusive lock while one loads."""

import contextlib
import fcntl


@contextlib.contextmanager
def input_data_folder():
    """Hold the machine-wide lock on the container's input data folder."""
    with open("/tmp/sagemaker_xgboost_input_data.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
