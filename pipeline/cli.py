"""``s3text``: the command line. ``s3text run`` starts the Prefect ``refresh`` flow.

It lives in ``pipeline/`` (not ``s3text/``) because it starts Prefect; the library stays free of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, help="Find transformative-activity candidates for S3 regions.")
console = Console()

EXIT_DATAERR, EXIT_TEMPFAIL, EXIT_CONFIG = 65, 75, 78


def _prefect_env(root: Path, verbose: bool) -> None:
    # A flow needs no server: Prefect starts a temporary local one. Keep its state in the project
    # and stop it calling an outside telemetry host (there may be no network at all).
    os.environ.setdefault("PREFECT_HOME", str(root / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@app.callback()
def main() -> None:
    """s3text command line."""


@app.command()
def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config")] = Path("configs/default.yaml"),
    overrides: Annotated[list[str] | None, typer.Option("--set", help="dotted override, e.g. topics.seed=7")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the refresh flow: ingest → … → candidates, then write the exports."""
    # Settings must be in the environment before the first prefect import reads them.
    _prefect_env(Path(__file__).resolve().parent.parent, verbose)
    from s3text.config import load_config
    from s3text.errors import ConfigError, InputError, StoreError

    try:  # validate before starting Prefect, so a typo fails in a second with exit 78
        load_config(config, list(overrides or []))
    except ConfigError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    from pipeline.flows import refresh

    try:
        manifest = refresh(config_path=str(config.resolve()), overrides=list(overrides or []))
    except ConfigError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    except InputError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_DATAERR) from exc
    except StoreError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_TEMPFAIL if "locked" in str(exc) else 1) from exc
    print_summary(manifest)


@app.command()
def backtest(
    until: Annotated[list[int], typer.Option("--until", help="last year the flags may see (repeatable)")],
    config: Annotated[Path, typer.Option("--config", "-c")] = Path("configs/default.yaml"),
    overrides: Annotated[list[str] | None, typer.Option("--set", help="dotted override")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="only documents of this source")] = None,
    write: Annotated[Path | None, typer.Option("--write", help="write the markdown table here")] = None,
) -> None:
    """Flag emerging topics from documents up to YEAR, then measure what grew afterwards."""
    root = Path(__file__).resolve().parent.parent
    _prefect_env(root, verbose=False)
    from s3text import steps
    from s3text.backtest import to_markdown
    from s3text.config import load_config
    from s3text.errors import ConfigError, ModelError
    from s3text.runinfo import new_run_id
    from s3text.steps.evaluate import run_backtest

    try:
        cfg = load_config(config, list(overrides or [])).resolve_paths(root)
    except ConfigError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    run_id = "backtest-" + new_run_id(cfg.config_hash())
    for stage in (steps.ingest, steps.regions, steps.normalise, steps.embed):  # no-ops when up to date
        stage(cfg, run_id)
    try:
        results = run_backtest(cfg, until, source)
    except ModelError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_DATAERR) from exc
    argv = " ".join(["s3text backtest", *(f"--until {u}" for u in until), *(f"--source {s}" for s in source or []),
                     f"--config {config}", *(f"--set {o}" for o in overrides or [])])
    text = to_markdown(results, command=argv, sources=source)
    console.print(text)
    if write is not None:
        from s3text.export import atomic_write

        def emit(handle: IO[str]) -> None:
            handle.write(text)

        atomic_write(write, emit)


def print_summary(manifest: dict[str, Any]) -> None:
    s = manifest["stages"]
    table = Table(title=f"s3text run {manifest['run_id']}")
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("documents ingested (new / total)", f"{s['ingest']['documents_new']} / {s['ingest']['documents_total']}"),
        ("records quarantined (new / total)",
         f"{s['ingest']['quarantined_new']} / {s['ingest']['quarantined_total']}"),
        ("actors without a region", str(s["regions"]["actors_unresolved"])),
        ("documents by status", ", ".join(f"{k} {v}" for k, v in sorted(s["normalise"]["by_status"].items()))),
        ("new embeddings computed", str(s["embed"]["embeddings_new"])),
        ("topics (outlier share)", f"{s['topics']['topics']} ({100 * s['topics']['outlier_share']:.1f}%)"),
        ("emerging topics", f"{s['emergence']['emerging_topics']} (up to {s['emergence']['end_year']})"),
        ("TA candidates (strengthen / diversify)",
         f"{s['candidates']['candidates']} ({s['candidates']['strengthen']} / {s['candidates']['diversify']})"),
    ]
    for what, value in rows:
        table.add_row(what, value)
    console.print(table)
    if s["ingest"]["documents_new"] == 0 and s["embed"]["embeddings_new"] == 0:
        console.print("Nothing new: no document added and no embedding computed; results refreshed from the store.")
    console.print("Wrote " + ", ".join(s["export"]["files"]) + ", and run.json")


if __name__ == "__main__":
    app()
