"""The checks a run makes of its data before anything is written: the configured columns exist, every row
is CSV with a number in each label and feature value, the labels fit the objective, and each split has what
its evaluation metric needs; and what the run takes from the data instead of a setting (a ``multi:``
objective's ``num_class``, the default drop columns the file has) and the labels' summary per split
(:mod:`~model_training.split.labels`).  The in-memory split calls them once on the whole file, the streaming split once per
chunk (a chunk's line numbers are the file's); the messages are the same.

A leading column named ``""`` or ``Unnamed: 0`` is a pandas index (``DataFrame.to_csv`` writes one unless
``index=False``; our own test file starts with one too).  The ``index_column`` setting decides what it is
(:func:`index_column`): ``auto`` (the default) and ``index`` leave it out of ``train``/``validation`` as a
drop column is left out, and make its values the test file's index instead of the row numbers
(:func:`~model_training.channels.render_test`), ``auto`` with a note (:func:`index_note`); ``error`` refuses
the file (before the setting existed, a first column without a name was refused and one named ``Unnamed: 0``
was a feature).  A column with an empty name anywhere else is refused whatever the setting
(:func:`~model_training.data.header.parse_header`).  The configuration naming the column (as the label, a
feature, the split key or the order column) makes it an ordinary column.

The checks are in two modules: :mod:`~model_training.validation.columns` (which columns a run uses: the label, the
features, the drop and index columns) and :mod:`~model_training.validation.rows` (every row's values, the labels'
classes, and what the data sets instead of a setting).
"""
