"""Which rows go to train, validation and test: the random plan and the strategies (stratified, group,
ordered, hash), and the one step that carries a plan out, in memory or streaming (``method.py``)."""
