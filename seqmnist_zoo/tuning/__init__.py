"""KerasTuner searches over units, learning rate and timesteps: `search` (``seqmnist-zoo tune``),
`spaces` (search-space files) and `recorded_search` (a shipped space searched for each model, its
table and plot recorded under ``tuning/results``).
"""
