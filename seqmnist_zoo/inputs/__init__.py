"""What the models read: MNIST itself, and people's pictures made into MNIST-form digits.

`data` (MNIST from ``SEQMNIST_ZOO_DATA``, the Keras cache or a download), `images` (reading picture
files), `marks` (finding digit-sized ink on a page), `preprocess` (a picture as MNIST made its
digits), `augment` (MNIST rewritten the way real handwriting arrives). No Keras here.
"""
