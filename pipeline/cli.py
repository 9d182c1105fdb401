"""``s3text``: the command line. ``s3text run`` starts the Prefect ``refresh`` flow.

It lives in ``pipeline/`` (not ``s3text/``) because it starts Prefect; the library stays free of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from s3text.config import PipelineConfig

app = typer.Typer(add_completion=False, help="Find transformative-activity candidates for S3 regions.")
console = Console()

EXIT_DATAERR, EXIT_TEMPFAIL, EXIT_CONFIG = 65, 75, 78
EPHEMERAL_STARTUP_SECONDS = "240"  # also exported by the Makefile, for tests and benchmarks
ROOT = Path(__file__).resolve().parent.parent


def _prefect_env(root: Path, verbose: bool) -> None:
    # A flow needs no server: Prefect starts a temporary local one. Keep its state in the project
    # and stop it calling an outside telemetry host (there may be no network at all).
    os.environ.setdefault("PREFECT_HOME", str(root / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    # The temporary server's start-up has taken over Prefect's default 20 s on a loaded machine
    # (the run then exits 1): wait long enough for a machine busy with other work.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_SECONDS)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@contextmanager
def exit_codes() -> Iterator[None]:
    """Print an s3text error in red and exit with its documented code, never with a traceback."""
    from s3text.errors import ConfigError, InputError, ModelError, StoreError

    try:
        yield
    except ConfigError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    except (InputError, ModelError) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_DATAERR) from exc
    except StoreError as exc:  # locked or busy: another run holds the store, retry later
        console.print(f"[red]{exc}")
        busy = getattr(exc, "retry_later", False) or "locked" in str(exc)
        raise typer.Exit(EXIT_TEMPFAIL if busy else 1) from exc


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
    _prefect_env(ROOT, verbose)
    from s3text.config import load_config

    with exit_codes():
        load_config(config, list(overrides or []))  # before Prefect starts: a typo fails in a second
        from pipeline.flows import refresh

        manifest = refresh(config_path=str(config.resolve()), overrides=list(overrides or []))
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
    _prefect_env(ROOT, verbose=False)
    from s3text import steps
    from s3text.backtest import to_markdown
    from s3text.runinfo import new_run_id
    from s3text.steps.evaluate import run_backtest

    with exit_codes():
        cfg = _config_of(config, overrides)
        run_id = "backtest-" + new_run_id(cfg.config_hash())
        for stage in (steps.ingest, steps.regions, steps.normalise, steps.embed):  # no-ops when up to date
            stage(cfg, run_id)
        results = run_backtest(cfg, until, source)
    argv = " ".join(["s3text backtest", *(f"--until {u}" for u in until), *(f"--source {s}" for s in source or []),
                     f"--config {config}", *(f"--set {o}" for o in overrides or [])])
    text = to_markdown(results, command=argv, sources=source)
    console.print(text)
    if write is not None:
        from s3text.writers import atomic_write

        def emit(handle: IO[str]) -> None:
            handle.write(text)

        atomic_write(write, emit)


def _config_of(config: Path, overrides: list[str] | None) -> PipelineConfig:
    """The validated config: a relative config path from here or else the project root, relative
    paths inside it from the project root. Raises ConfigError (call inside ``exit_codes``)."""
    from s3text.config import load_config

    if not config.is_absolute() and not config.exists():
        config = ROOT / config
    return load_config(config, list(overrides or [])).resolve_paths(ROOT)


def _store_of(config: Path, overrides: list[str] | None) -> Path:
    """The store named by the config; exit 78 on a bad config."""
    with exit_codes():
        return _config_of(config, overrides).store


@app.command("export")
def export_files(
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the files")],
    formats: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="csv, json, parquet or xlsx (repeatable; default csv)")] = None,
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config (names the store)")] = Path(
        "configs/default.yaml"),
    overrides: Annotated[list[str] | None, typer.Option("--set", help="dotted override, e.g. store=x.duckdb")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="run to export; default the latest completed")] = None,
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="only candidates with this review status (repeatable): new, accepted, rejected, watch",
    )] = None,
) -> None:
    """Export a run: candidates with review status, topics, region-topic metrics, evidence links (docs/EXPORTS.md)."""
    from s3text.exports import FORMATS, export_run
    from s3text.review import STATUSES

    chosen = list(formats or ["csv"])
    if set(chosen) - set(FORMATS):
        raise typer.BadParameter(f"choose from {', '.join(FORMATS)}; got {', '.join(chosen)}", param_hint="--format")
    if set(status or []) - set(STATUSES):
        raise typer.BadParameter(f"choose from {', '.join(STATUSES)}", param_hint="--status")
    store = _store_of(config, overrides)
    with exit_codes():
        written = export_run(store, out, formats=chosen, run_id=run_id, statuses=status or None)
    console.print(f"Wrote {len(written)} files to {out}: " + ", ".join(p.name for p in written))


@app.command("report")
def report_file(
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write")],
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config (names the store)")] = Path(
        "configs/default.yaml"),
    overrides: Annotated[list[str] | None, typer.Option("--set", help="dotted override, e.g. store=x.duckdb")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="run to report; default the latest completed")] = None,
    per_region: Annotated[int, typer.Option("--per-region", min=1, help="candidates shown per region")] = 3,
) -> None:
    """Write a self-contained static HTML report of a run: summary, trend charts, top candidates per region."""
    from s3text.html_report import write_report

    store = _store_of(config, overrides)
    with exit_codes():
        path = write_report(store, out, run_id=run_id, per_region=per_region)
    console.print(f"Wrote {path}")


@app.command()
def serve(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config")] = Path("configs/default.yaml"),
    overrides: Annotated[list[str] | None, typer.Option("--set", help="dotted override")] = None,
    web_config: Annotated[Path | None, typer.Option(
        "--web-config", help="YAML whose web: section holds reviewers, port, public statuses")] = None,
    host: Annotated[str | None, typer.Option("--host", help="default 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option("--port", help="default 8484")] = None,
    store: Annotated[Path | None, typer.Option("--store", help="store to serve (default: the config's)")] = None,
) -> None:
    """Serve the review pages and the portal's JSON API (/api/v1) on the store."""
    import uvicorn

    from s3text.web import WebConfig, create_app, load_web_config
    from s3text.web.config import is_loopback

    try:
        with exit_codes():
            cfg = _config_of(config, overrides)
            web_cfg = load_web_config(web_config) if web_config is not None else cfg.web
            updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
            web_cfg = WebConfig.model_validate({**web_cfg.model_dump(), **updates})
            server = create_app(store or cfg.store, web_cfg, cfg)
    except ValueError as exc:  # pydantic's ValidationError for --port out of range
        console.print(f"[red]{exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    if not is_loopback(web_cfg.host):
        console.print(f"[yellow]Listening on {web_cfg.host}: the pages and the public API are open to anyone who "
                      "can reach it, and sign-ins travel in clear text unless a TLS proxy is in front.")
    if not web_cfg.reviewers:
        console.print("[yellow]No reviewers configured (web.reviewers): decisions cannot be recorded.")
    console.print(f"s3text review server on http://{web_cfg.host}:{web_cfg.port}/ (Ctrl+C stops it)")
    uvicorn.run(server, host=web_cfg.host, port=web_cfg.port, server_header=False, log_level="info")


@app.command()
def crawl(
    seeds: Annotated[Path | None, typer.Option("--seeds", help="seed CSV: name, website, country[, nuts, city, sector]")
                     ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the interrupted crawl (with --seeds: if any)")
                      ] = False,
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config (crawl: section, store)")] = Path(
        "configs/default.yaml"),
    overrides: Annotated[list[str] | None, typer.Option("--set", help="dotted override, e.g. crawl.max_depth=2")
                         ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log each site")] = False,
) -> None:
    """Crawl company websites into the store (docs/CRAWLER.md); a recrawl stores only changed pages."""
    import logging

    from s3text.crawl import crawl as run_crawl

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with exit_codes():
        cfg = _config_of(config, overrides)
        settings = cfg.crawl
        if seeds is not None and not seeds.is_absolute() and not seeds.exists():
            seeds = ROOT / seeds
        seed_file = seeds if seeds is not None else settings.seeds  # the config's is resolved already
        if seed_file is None and not resume:
            raise typer.BadParameter("give --seeds FILE (or crawl.seeds in the config), or --resume",
                                     param_hint="--seeds")
        report = run_crawl(cfg.store, settings, seeds=seed_file, resume=resume)
    if report.status == "nothing_to_resume":
        console.print("No interrupted crawl to resume.")
        return
    print_crawl_report(report.to_dict())


def print_crawl_report(report: dict[str, Any]) -> None:
    """The crawl report: one row per host, then the reasons pages were skipped or failed."""
    table = Table(title=f"crawl {report['crawl_id']}" + (" (resumed)" if report["resumed"] else ""))
    for name in ("host", "fetched", "new versions", "unchanged", "skipped", "failed"):
        table.add_column(name, justify="left" if name == "host" else "right")
    for h in [*report["hosts"], {"host": "[b]all hosts", **report["totals"]}]:
        table.add_row(h["host"], str(h["fetched"]), str(h["new_versions"]), str(h["unchanged"]),
                      str(sum(h["skipped"].values())), str(sum(h["failed"].values())))
    console.print(table)
    for kind in ("skipped", "failed"):
        reasons = report["totals"][kind]
        if reasons:
            console.print(f"{kind}: " + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])))
    console.print(f"{report['documents_new']} new documents; {report['seeds']} sites"
                  + (f", {report['seeds_quarantined']} seed rows quarantined" if report["seeds_quarantined"] else "")
                  + f"; {report['seconds']:.1f} s.")


def _figure(value: float | None) -> str:
    return "n/a (nothing to compare)" if value is None else f"{value:.3f}"


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
        ("topics refitted or assigned", f"{s['topics']['mode']}: {'; '.join(s['topics']['reasons']) or 'no trigger'}"),
        ("kept lineage topic / candidate Jaccard",
         f"{_figure(s['stability']['kept_share'])} / {_figure(s['stability']['candidate_jaccard'])}"),
        ("emerging topics", f"{s['emergence']['emerging_topics']} (up to {s['emergence']['end_year']})"),
        ("TA candidates (strengthen / diversify)",
         f"{s['candidates']['candidates']} ({s['candidates']['strengthen']} / {s['candidates']['diversify']})"),
        ("below minimum evidence (not flagged)", str(s["candidates"].get("below_minimum_evidence", 0))),
    ]
    for what, value in rows:
        table.add_row(what, value)
    console.print(table)
    counts = ("read", "stored", "duplicates", "quarantined")
    files = Table(title="files read")
    for column in ("source", "file", "encoding", *counts):
        files.add_column(column, justify="right" if column in counts else "left")
    for f in s["ingest"].get("files", []):
        files.add_row(f["source"], Path(f["file"]).name, f["encoding"] or "", *(str(f[k]) for k in counts))
    if files.row_count:
        console.print(files)
    for source, line in s["regions"].get("sources", {}).items():  # what each source gives capacity
        console.print(f"regions, {source}: {line}")
    if s["candidates"].get("why_no_candidates"):
        console.print(f"No candidate: {s['candidates']['why_no_candidates']}", markup=False)
    for topic, reason in s["candidates"].get("no_candidate_topics", {}).items():
        console.print(f"emerging topic {topic} ({reason['label']}) has no candidate: {reason['text']}", markup=False)
    if s["ingest"]["documents_new"] == 0 and s["embed"]["embeddings_new"] == 0:
        console.print("Nothing new: no document added and no embedding computed; results refreshed from the store.")
    console.print("Wrote " + ", ".join(s["export"]["files"]) + ", and run.json")


if __name__ == "__main__":
    app()
