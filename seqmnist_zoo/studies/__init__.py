"""The guides' studies: declared groups of seeded runs, recorded as they finish.

`record` (a study file and its record), `runner` (runs what is not recorded yet), `report` and
`figures` (tables and pictures from a record), `experiments`, `gradients` and `run_settings`
(what one run trains and measures).
"""
