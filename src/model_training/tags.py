"""The text AWS allows in a tag, for SageMaker's training jobs and S3's objects alike.

AWS's API references give one pattern for both a SageMaker ``Tag`` (CreateTrainingJob's ``Tags``) and an S3
object tag (``S3Tag``): key and value match ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$``, a key has 1-128 characters,
a value at most 256.  Here ``\\w\\s`` stands for ``\\p{L}\\p{Z}\\p{N}`` (Python's ``re`` has no Unicode classes):
``\\w`` also takes ``_`` (allowed anyway), and ``\\s`` also takes tabs and line breaks, which AWS refuses.

Ground floor: imports nothing from the package.
"""

from __future__ import annotations

import re

#: The characters of a tag's key or value, as a regular-expression class body (see the module's docstring).
TAG_CHARACTERS = r"\w\s.:/=+\-@"
#: The longest tag value, in characters.
MAX_TAG_VALUE_CHARS = 256

_TAG_TEXT = re.compile(f"[{TAG_CHARACTERS}]*")
_NOT_TAG_TEXT = re.compile(f"[^{TAG_CHARACTERS}]")


def is_tag_text(text: str) -> bool:
    """Whether ``text`` holds only characters a tag's key or value may hold (its length is not checked)."""
    return _TAG_TEXT.fullmatch(text) is not None


def tag_value(text: str) -> str:
    """``text`` as a tag value: each character a tag may not hold becomes ``_``, and of a longer text the
    last 256 characters are kept (the end of a URI names the object)."""
    return _NOT_TAG_TEXT.sub("_", text)[-MAX_TAG_VALUE_CHARS:]
