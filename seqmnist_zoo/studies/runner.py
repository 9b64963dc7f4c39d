"""Run a declared study: groups of training runs, each with several seeds, recorded as they finish.

A study file (``studies/NAME.json``) is plain data::

    {"question": "...", "description": "...", "defaults": {run settings},
     "groups": [{"name": "main", "label": "...", "settings": {...},
                 "grid": {"timesteps": [7, 28], "cell": ["lstm", "gru"]}, "seeds": [0, 1, 2]}]}

Each group's runs are its grid's every combination (or one run without a grid) times its seeds,
with settings from `seqmnist_zoo.studies.experiments`. ``python -m seqmnist_zoo.studies.runner
studies/NAME.json`` runs the runs not yet recorded in ``studies/results/NAME.json``, seed by seed
(every point gets its first seed before any gets its second), writing the record after each run,
so an interrupted study resumes where it stopped and changing a group's settings re-runs only
what changed. With each run it rewrites the study's tables and figures
(`seqmnist_zoo.studies.report`), so they always show the runs recorded so far.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, SeqMnistZooError
from ..quiet import framework_logs_silenced
from .record import (
    RESULTS_DIR,
    find_run,
    load_study,
    planned_runs,
    read_record,
    results_path,
    write_record,
)


def run_study(path, results_dir=RESULTS_DIR, data=None, report: bool = True,
              log=print, groups=None) -> dict[str, Any]:
    """Run every declared run that is not recorded yet; returns the study's record.

    `groups` (names) restricts this call to some groups, e.g. the cheap ones first.

    Examples:
        >>> import json
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.json"
        >>> _ = path.write_text(json.dumps({"defaults": {"units": 4, "epochs": 1, "train_samples": 256},
        ...                                 "groups": [{"name": "g"}]}))
        >>> record = run_study(path, path.parent / "results", log=lambda line: None)
        >>> [(run["group"], run["seed"], run["steps"]) for run in record["runs"]]
        [('g', 0, 2)]
        >>> run_study(path, path.parent / "results", log=print)["runs"] == record["runs"]
        tiny: 1 of 1 runs recorded, 0 to go
        True
    """
    from ..inputs.data import load_mnist
    from .experiments import run_experiment
    from .report import write_report

    study = load_study(path)
    record = read_record(study, results_dir)
    planned = planned_runs(study)
    if groups:
        unknown = sorted(set(groups) - {g["name"] for g in study["groups"]})
        if unknown:
            raise InvalidArgumentError(f"{study['name']} has no group {unknown[0]!r}; its groups: "
                                       + ", ".join(g["name"] for g in study["groups"]))
        planned = [r for r in planned if r["group"] in groups]
    missing = [r for r in planned if find_run(record, r["group"], r["declared"], r["seed"]) is None]
    log(f"{study['name']}: {len(planned) - len(missing)} of {len(planned)} runs recorded, "
        f"{len(missing)} to go")
    data = data if isinstance(data, tuple) else load_mnist(data)
    for number, run in enumerate(missing, 1):
        started = time.perf_counter()
        result = run_experiment(run["declared"], run["seed"], data)
        result = {"group": run["group"], **result}
        record["runs"] = [r for r in record["runs"]
                          if not (r["group"] == run["group"] and r["seed"] == run["seed"]
                                  and r["settings"] == result["settings"])] + [result]
        if report:  # one write: the tables always match the runs in the file
            _describe(record, study)
            write_report(study, record, results_dir)
        else:
            _write(record, study, results_dir)
        log(f"[{number}/{len(missing)}] {run['group']} seed {run['seed']} "
            f"{_varying(run['declared'], study)}: {result['outcome']}, "
            f"test {result['test_accuracy']:.2%} in {time.perf_counter() - started:.0f} s")
    if report:
        write_report(study, record, results_dir)
    return record


def _varying(declared: dict[str, Any], study: dict[str, Any]) -> str:
    keys = {k for g in study["groups"] for k in g.get("grid", {})}
    return " ".join(f"{k}={declared[k]}" for k in sorted(keys) if k in declared)


def _describe(record: dict[str, Any], study: dict[str, Any]) -> None:
    record.update({"study": study["name"], "question": study.get("question", ""),
                   "description": study.get("description", ""),
                   "command": f"python -m seqmnist_zoo.studies.runner studies/{study['name']}.json"})


def _write(record: dict[str, Any], study: dict[str, Any], results_dir) -> None:
    _describe(record, study)
    path = results_path(study, results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_record(record, path)



def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m seqmnist_zoo.studies.runner",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("study", type=Path, help="a study file, e.g. studies/timesteps.json")
    parser.add_argument("--groups", nargs="+", metavar="GROUP",
                        help="run only these groups of the study (the others stay as recorded)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite the tables and figures from the recorded runs")
    args = parser.parse_args(argv)
    with framework_logs_silenced():
        _run(parser, args)


def _run(parser, args) -> None:
    try:
        if args.report_only:
            from .report import write_report

            study = load_study(args.study)
            write_report(study, read_record(study))
        else:
            from ..training.threads import owned_process_threads

            owned_process_threads()
            run_study(args.study, groups=args.groups)
    except SeqMnistZooError as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"{parser.prog}: interrupted; the runs finished so far are recorded, "
                         "run the same command to resume\n")


if __name__ == "__main__":
    main()
