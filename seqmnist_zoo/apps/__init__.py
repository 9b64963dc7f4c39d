"""What users run: the ``seqmnist-zoo`` command line (`cli`), the draw-a-digit page (`demo`) and
exports to SavedModel, ONNX and LiteRT (`export`). The top layer: nothing in the package imports it.
"""
