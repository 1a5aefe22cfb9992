"""model-training: the training stage of an event-driven AutoML pipeline.

Importing the package is cheap (it is what a Lambda cold start does): the pipeline's parts are
imported by the code that uses them.
"""

from __future__ import annotations

__version__ = "0.1.0"
