"""KerasTuner searches over units, learning rate and timesteps: `search` (``seqmnist-zoo tune``),
`hypermodel` (a trial's model), `tuners` (KerasTuner set up to resume and lock its project),
`spaces` (search-space files) and `recorded_search` (a shipped space searched for each model, its
table and plot recorded under ``tuning/results``).
"""
