"""Run experiments into a run folder: atomic results, resume, parallel jobs, the report.

The run folder itself (overwrite policy, manifest, report rendering) is
:mod:`relreps.report.run_folder`, shared with the commands that write one without experiments.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from relreps._validation import check_int
from relreps.experiments import EXPERIMENT_MODULES, get, names
from relreps.experiments.base import (
    DataSelection,
    ExperimentResult,
    ExperimentSpec,
    RunContext,
    atomic_write_text,
    format_missing,
)
from relreps.report.run_folder import RunFolderError, build_manifest, prepare_output, write_report

__all__ = ["RunFolderError", "build_manifest", "prepare_output", "reproduce", "write_report"]

_Log = Callable[[str], None]  # receives one status line


def reproduce(
    experiments: Sequence[str],
    output: Path | str,
    *,
    quick: bool = False,
    seeds: int | None = None,
    seed: int = 0,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    jobs: int = 1,
    online: bool = False,
    selection: DataSelection | None = None,
    log: _Log = print,
) -> list[ExperimentResult]:
    """Run the named experiments (``["all"]`` for every one) into ``output``.

    Each finished experiment's result is written atomically to ``results/NAME.json``; with
    ``resume`` finished experiments are loaded instead of rerun and unfinished ones reuse their
    finished cells. Unavailable data or models make an experiment skip with the exact reason.
    A report (markdown + HTML) is written at the end when the report module is available.

    Args:
        experiments: experiment names, or ``["all"]``.
        output: the run folder.
        quick: run the reduced variants.
        seeds: number of seeds (None: each experiment's default).
        seed: base random seed.
        resume: continue an interrupted run in ``output``.
        overwrite: replace an existing run folder.
        progress: show progress bars (only with ``jobs == 1``; parallel bars would interleave).
        jobs: experiments run at once, each in its own process with ``cpu_count // jobs`` BLAS
            threads. Results and the report are the same as with ``jobs=1``, in the same order.
        online: also run the paper's original (downloaded) data and models; see
            :class:`~relreps.experiments.base.RunContext`.
        selection: optional data parts asked for by name (Planetoid sets, hub text datasets,
            Amazon languages, word-vector files); see
            :class:`~relreps.experiments.base.DataSelection`.
        log: receives one line per event.

    Raises:
        ValueError: for an unknown experiment name or ``jobs < 1``.
        RunFolderError: when ``output`` cannot be used as asked.
    """
    jobs = check_int(jobs, "jobs", low=1)
    chosen = names() if list(experiments) == ["all"] else list(experiments)
    for name in chosen:
        get(name)  # unknown names fail before any folder is touched
    folder = prepare_output(output, overwrite=overwrite, resume=resume)
    selection = DataSelection() if selection is None else selection
    # The RunContext options that change results; the manifest's config records them.
    options: dict[str, Any] = {"quick": quick, "seeds": seeds, "seed": seed, "online": bool(online)}
    config: dict[str, Any] = {"experiments": chosen, **options}
    if not selection.is_empty():  # recorded only when used: older manifests stay comparable
        config["selection"] = selection.to_dict()
    options["selection"] = selection
    if resume:
        _check_resumable(folder, config)
    manifest = build_manifest(config)
    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=2))
    done = _finished_results(folder, chosen, quick, log) if resume else {}
    to_run = [name for name in chosen if name not in done]
    if jobs == 1 or len(to_run) <= 1:
        for name in to_run:
            done[name] = _run_one(get(name), folder, options, progress=progress, log=log)
    else:
        done.update(_run_parallel(to_run, folder, options, jobs=jobs, log=log))
    results = [done[name] for name in chosen]
    write_report(folder, results, manifest)
    return results


def _result_path(output: Path, name: str) -> Path:
    return output / "results" / f"{name}.json"


def _finished_results(
    folder: Path, chosen: Sequence[str], quick: bool, log: _Log
) -> dict[str, ExperimentResult]:
    """The finished results of a resumed run folder, by name: unreadable ones, skipped ones and
    those of the other variant (quick or full) are left out, to be run again."""
    done: dict[str, ExperimentResult] = {}
    for name in chosen:
        path = _result_path(folder, name)
        try:
            result = ExperimentResult.from_dict(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if bool(result.config.get("quick")) == quick and not result.skipped_reason:
            log(f"[{name}] already finished; loaded {path}")
            done[name] = result
    return done


def _check_resumable(folder: Path, config: dict[str, Any]) -> None:
    """Refuse to resume a run folder made with other result-changing options (one report would
    otherwise mix, e.g., seeds or quick and full results)."""
    try:
        previous = json.loads((folder / "manifest.json").read_text("utf-8"))["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no readable manifest: nothing to compare against (finished results still load)
    # The value a manifest that lacks an option (an older one, or no selection) stands for.
    defaults: dict[str, Any] = {"online": False, "selection": DataSelection().to_dict()}
    changed = []
    for key in ("quick", "seeds", "seed", "online", "selection"):
        old, new = previous.get(key, defaults.get(key)), config.get(key, defaults.get(key))
        if old != new:
            changed.append(f"{key}={old!r} (now {new!r})")
    if changed:
        raise RunFolderError(
            f"cannot resume {str(folder)!r}: it was made with {', '.join(changed)}; pass the same "
            "options, or --overwrite to start again"
        )


def _run_one(
    spec: ExperimentSpec, folder: Path, options: dict[str, Any], *, progress: bool, log: _Log
) -> ExperimentResult:
    """Run (or skip, naming what is missing) one experiment and write its result atomically.

    ``options`` are the :class:`RunContext` keywords ``quick``, ``seeds``, ``seed``, ``online``
    and ``selection``.
    """
    name, quick = spec.name, bool(options["quick"])
    missing = spec.missing()
    if missing:
        reason = format_missing(missing)
        log(f"[{name}] skipped: {reason}")
        result = ExperimentResult(
            name, spec.title, spec.paper_ref, config={"quick": quick}, skipped_reason=reason
        )
    else:
        log(f"[{name}] running{' (quick)' if quick else ''} ...")
        context = RunContext(folder, progress=progress, log=log, **options)
        start = time.perf_counter()
        result = spec.run(context)
        result = dataclasses.replace(result, wall_time_s=time.perf_counter() - start)
        log(f"[{name}] done in {result.wall_time_s:.1f} s")
    atomic_write_text(_result_path(folder, name), result.to_json())
    return result


def _run_parallel(
    to_run: Sequence[str], folder: Path, options: dict[str, Any], *, jobs: int, log: _Log
) -> dict[str, ExperimentResult]:
    """Run experiments in ``jobs`` worker processes, each experiment in a fresh process.

    Experiments are handed out one at a time as workers free up, so after the first failure no
    further experiment starts; the running ones finish and keep their results (``--resume``
    continues from there), then the failure is raised.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    threads = max(1, (os.cpu_count() or 1) // jobs)
    log(f"running {len(to_run)} experiments, {jobs} at a time ({threads} BLAS thread(s) each)")
    queue = list(to_run)
    running: dict[Future[str], str] = {}
    done: dict[str, ExperimentResult] = {}
    failure: BaseException | None = None
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(to_run)),
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded parent
        max_tasks_per_child=1,  # a fresh interpreter per experiment: no state leaks between them
    ) as pool:
        while running or (queue and failure is None):
            while queue and failure is None and len(running) < jobs:
                name = queue.pop(0)
                module = EXPERIMENT_MODULES[name]
                running[pool.submit(_worker, module, str(folder), options, threads)] = name
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                error = future.exception()
                if error is None:
                    done[name] = ExperimentResult.from_dict(json.loads(future.result()))
                elif failure is None:
                    failure = error
                    log(
                        f"[{name}] failed ({type(error).__name__}: {error}); not starting the "
                        f"{len(queue)} queued experiment(s); the running ones finish"
                    )
    if failure is not None:
        raise failure
    return done


def _worker(module: str, folder: str, options: dict[str, Any], threads: int) -> str:
    """The experiment ``module.SPEC`` in a worker process; returns its result as JSON."""
    spec: ExperimentSpec = importlib.import_module(module).SPEC
    name = spec.name
    limits: Any = contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(threads)
    except ImportError:
        pass

    def log(line: str) -> None:
        print(line if line.startswith(f"[{name}]") else f"[{name}] {line}", file=sys.stderr)

    with limits:
        result = _run_one(spec, Path(folder), options, progress=False, log=log)
    return result.to_json()
