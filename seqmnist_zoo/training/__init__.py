"""Training a family: `fit` (the train loop and its run record), `evaluation` (the test set),
`cpu_path` and `fused_rnn` (the CPU fast path), `threads` (TensorFlow's thread layout), `batches`
(what `fit` reads), `environment` (what a run record says about the machine).
"""
