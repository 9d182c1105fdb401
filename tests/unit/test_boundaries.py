"""Architecture rules that keep the library usable on its own."""

import subprocess
import sys
import types
from pathlib import Path

from typer.testing import CliRunner

import s3text


def test_library_never_imports_prefect() -> None:
    code = ("import sys, s3text, s3text.steps, s3text.outputs, s3text.candidates; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('prefect', 'pipeline')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(s3text)
              if not n.startswith("_") and not isinstance(getattr(s3text, n), types.ModuleType)}
    assert public == set(s3text.__all__) - {"__version__"}


def test_cli_rejects_a_bad_config_with_exit_78(tmp_path: Path) -> None:
    from pipeline.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: []\nnot_a_key: 1\n")
    result = CliRunner().invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 78
    assert "not_a_key" in result.output
