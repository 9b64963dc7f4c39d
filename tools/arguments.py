"""Argument types the benchmark scripts share, so a wrong value is refused in one line."""

from __future__ import annotations

import argparse


def positive_count(text: str) -> int:
    """A count (rounds, fits, pictures): a whole number of at least 1.

    Examples:
        >>> positive_count("3")
        3
        >>> positive_count("0")
        Traceback (most recent call last):
        argparse.ArgumentTypeError: '0' is not a whole number of at least 1
    """
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)
