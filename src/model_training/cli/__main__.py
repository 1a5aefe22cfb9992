"""``python -m model_training.cli``: the ``model-training`` command."""

from model_training.cli import main

main()
