"""The one interface of the split step, with two implementations: in memory
(:class:`~model_training.split.in_memory.InMemorySplit`) and streaming
(:class:`~model_training.split.streaming.StreamingSplit`).  They write the same bytes.

The orchestrator asks a method to :meth:`~SplitMethod.prepare` the split (validate every row, plan the split,
summarise each split's labels, take from the data what the settings left to it) and, while it is prepared,
writes its :attr:`~PreparedSplit.outputs` to the store and commits the run.  A method never writes to the
store or calls back into the orchestrator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from model_training.algorithm.hyperparameters import ParsedHyperparameters
from model_training.config.run import RunConfig
from model_training.ports import OutputFile, SourceInfo, SplitLabels
from model_training.progress import Reporter


@dataclass(frozen=True)
class PreparedSplit:
    """A split validated and planned, ready to be written.

    Attributes:
        source: the source's identity (for an S3 object read by the streaming split, with the SHA-256 of the
            bytes split).
        labels: each split's labels (``train``, ``validation``, ``test``): the rows per class under a
            classification objective, else the rows and the label's minimum, maximum and mean.
        inferred: the settings taken from the data, for ``run.json``'s ``inferred``: ``hyperparameters`` (a
            ``multi:`` objective's ``num_class``, which the training job is sent) and ``drop`` (the default drop
            columns the file has, when not all); empty when none.
        achieved: each split's rows over all rows (``{"train": ..., "validation": ..., "test": ...}``) for every
            strategy but random (:func:`~model_training.split.inputs.plan_from_input`); ``None`` for random.
        outputs: the output files in order (``train`` parts, ``validation`` parts, ``test``), each rendered
            as it is consumed.
    """

    source: SourceInfo
    labels: dict[str, SplitLabels]
    inferred: dict[str, Any]
    achieved: dict[str, float] | None
    outputs: Callable[[], Iterator[OutputFile]]


class SplitMethod(Protocol):
    """A way to carry out the split of one source."""

    def prepare(self, config: RunConfig, hp: ParsedHyperparameters, rep: Reporter) -> AbstractContextManager[PreparedSplit]:
        """Validate every row and plan the split; the result's outputs can be written while the context is open.

        Raises:
            DatasetError: the data cannot be split (naming the object, the line and the column).
            SplitError: the strategy cannot split these rows.
        """
        ...
