"""``s3text crawl``: the report on the console, and the documented exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from tests.crawl.conftest import CONTACT, write_seeds
from tests.crawl.webserver import Site, html, words

CONFIG = "tests/e2e/config_small.yaml"


def _args(tmp_path: Path, *extra: str, contact: bool = True) -> list[str]:
    sets = [f"store={tmp_path / 'store.duckdb'}", "crawl.allow_private_addresses=true", "crawl.request_delay=0.01",
            "crawl.use_sitemaps=false", *([f"crawl.contact_url={CONTACT}"] if contact else [])]
    return ["crawl", "--config", CONFIG, *(a for s in sets for a in ("--set", s)), *extra]


def test_cli_crawl_prints_the_report(make_site: Callable[..., Site], tmp_path: Path) -> None:
    site = make_site()
    site.page("/", html("Home", words(20), ["/gone"]))
    seeds = write_seeds(tmp_path, ("CLI AG", site.url + "/", "CH", "", "Bern", ""),
                        ("Bad", "ftp://x", "CH", "", "", ""))
    result = CliRunner().invoke(app, _args(tmp_path, "--seeds", str(seeds)))
    assert result.exit_code == 0, result.output
    assert "all hosts" in result.output and "failed: http_404 1" in result.output
    assert "1 new documents; 1 sites, 1 seed rows quarantined" in result.output


def test_cli_crawl_exit_codes(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path, ("A", "https://a.example/", "AT", "", "", ""))
    runner = CliRunner()
    no_contact = runner.invoke(app, _args(tmp_path, "--seeds", str(seeds), contact=False))
    assert no_contact.exit_code == 78 and "contact_url" in no_contact.output
    missing = runner.invoke(app, _args(tmp_path, "--seeds", str(tmp_path / "none.csv")))
    assert missing.exit_code == 65 and "none.csv" in missing.output
    nothing = runner.invoke(app, _args(tmp_path, "--resume"))
    assert nothing.exit_code == 0 and "No interrupted crawl to resume" in nothing.output
    neither = runner.invoke(app, _args(tmp_path))
    assert neither.exit_code == 2
    bad_key = runner.invoke(app, [*_args(tmp_path, "--seeds", str(seeds)), "--set", "crawl.max_depht=2"])
    assert bad_key.exit_code == 78
