"""Reading with a trained model: `predict` (answers for pictures, one per input, errors included)
and `reading` (what the model believes after each row), with `reading_plots` drawing the latter.
"""
