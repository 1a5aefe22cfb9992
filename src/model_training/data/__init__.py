"""Reading the data: sources (a local file, an S3 object version, a folder of part files), text and header
checks, gzip inflation, CSV parsing with errors that name the object, line and column, the byte-level row
index, and the :class:`~model_training.data.dataset.Dataset` the split works on."""
