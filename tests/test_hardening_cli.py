"""Issue 11, the command line and batch items: what a new user and a hostile tester found.

Each test names its item: 2 (a stop removes only its own temporaries), 3 (no file replaced
unasked), 8 (Ctrl-C in the first moments), 9 (control characters in names), 12 (-o and --report
mistakes are usage errors), 14 (-o DIR/ and missing folders), 15 (sizes height x width), 16 (the
smaller ones).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import pixels, run
from PIL import Image

from poolcli.batch import runner
from poolcli.batch.plan import plan as make_plan
from poolcli.batch.recipe import Recipe
from poolcli.cli import POOL_OPS
from poolcli.cli.types import AxesType
from poolcli.core.geometry import Window
from poolcli.imaging.tasks import Pooling

WORKTREE = Path(__file__).resolve().parent.parent


def save(path: Path, value: int = 0, size: tuple[int, int] = (4, 4)) -> Path:
    """A grey image of ``size`` (height, width) whose pixels count up from ``value``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = size[0] * size[1]
    Image.fromarray(((np.arange(count) + value) % 256).astype(np.uint8).reshape(size)).save(path)
    return path


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder, with photo.png (4x4) and shots/logo.png, shots/b.png."""
    monkeypatch.chdir(tmp_path)
    save(tmp_path / "photo.png", 10)
    save(tmp_path / "shots" / "logo.png", 20)
    save(tmp_path / "shots" / "b.png", 30)
    return tmp_path


def users_own(path: Path) -> bytes:
    """A picture of the user's own at ``path`` (another size, other pixels): its bytes."""
    Image.new("RGB", (3, 5), (1, 2, 3)).save(path)
    return path.read_bytes()


# ---------------------------------------------------------------------------------------------
# 3. A file poolcli was not asked to replace is never replaced


def test_3_a_batch_leaves_the_users_file_and_says_which(here: Path) -> None:
    mine = users_own(here / "shots" / "logo.max.png")
    result = run("max", "shots")
    assert result.exit_code == 1
    assert result.stderr == (
        f"poolcli: {os.path.join('shots', 'logo.max.png')}: exists; replace it with --overwrite "
        "or keep it with --skip-existing\n"
        "poolcli: 1 done, 0 skipped, 1 failed\n"
    )
    assert (here / "shots" / "logo.max.png").read_bytes() == mine
    assert (here / "shots" / "b.max.png").exists()


def test_3_overwrite_replaces_and_counts_every_replaced_file(here: Path) -> None:
    users_own(here / "shots" / "logo.max.png")
    result = run("max", "shots", "--overwrite")
    assert (result.exit_code, result.stderr) == (
        0,
        "poolcli: 2 done (1 replaced), 0 skipped, 0 failed\n",
    )
    assert pixels(here / "shots" / "logo.max.png").shape == (2, 2)
    result = run("max", "shots", "--overwrite", "--report", "json", "-q")
    assert result.exit_code == 0
    assert [json.loads(line).get("replaced") for line in result.stdout.splitlines()] == [
        True,
        True,
    ]
    assert result.stderr == ""


def test_3_a_folder_output_is_refused_too(here: Path) -> None:
    (here / "small").mkdir()
    mine = users_own(here / "small" / "b.png")
    result = run("max", "shots", "-o", "small")
    assert result.exit_code == 1
    assert f"poolcli: {os.path.join('small', 'b.png')}: exists; replace it" in result.stderr
    assert (here / "small" / "b.png").read_bytes() == mine
    assert pixels(here / "small" / "logo.png").shape == (2, 2)


def test_3_one_input_default_name(here: Path) -> None:
    mine = users_own(here / "photo.max.png")
    result = run("max", "photo.png")
    assert result.exit_code == 1
    assert result.stderr == (
        "poolcli: photo.max.png: exists; replace it with --overwrite or keep it with "
        "--skip-existing\n"
    )
    assert (here / "photo.max.png").read_bytes() == mine
    result = run("max", "photo.png", "--overwrite")
    assert (result.exit_code, result.stderr) == (
        0,
        "poolcli: replaced photo.max.png (4x4 -> 2x2)\n",
    )
    result = run("max", "photo.png", "--skip-existing")
    assert (result.exit_code, result.stderr) == (0, "poolcli: skipped photo.max.png: it exists\n")


def test_3_a_dry_run_says_what_it_would_refuse_and_replace(here: Path) -> None:
    mine = users_own(here / "photo.max.png")
    assert run("max", "photo.png", "--dry-run").exit_code == 1
    result = run("max", "photo.png", "--dry-run", "--overwrite")
    assert (result.exit_code, result.stderr) == (
        0,
        "poolcli: would replace photo.max.png (4x4 -> 2x2)\n",
    )
    assert (here / "photo.max.png").read_bytes() == mine


def test_3_an_output_named_with_o_is_written_over_and_said(here: Path) -> None:
    users_own(here / "out.png")
    result = run("max", "photo.png", "-o", "out.png")
    assert (result.exit_code, result.stderr) == (0, "poolcli: replaced out.png (4x4 -> 2x2)\n")
    assert pixels(here / "out.png").shape == (2, 2)
    result = run("max", "photo.png", "-o", "new.png")
    assert result.stderr == "poolcli: wrote new.png (4x4 -> 2x2)\n"


def test_3_a_device_is_written_into_not_replaced(here: Path) -> None:
    result = run("max", "photo.png", "-o", os.devnull, "--format", "png")
    assert (result.exit_code, result.stderr) == (0, f"poolcli: wrote {os.devnull} (4x4 -> 2x2)\n")


def test_3_overwrite_and_skip_existing_together_is_a_usage_error(here: Path) -> None:
    result = run("max", "shots", "--overwrite", "--skip-existing")
    assert result.exit_code == 2
    assert result.stderr == "poolcli: give one of --overwrite and --skip-existing\n"


@pytest.mark.parametrize(
    "args",
    [["compare", "photo.png"], ["adaptive", "photo.png", "--to", "2"]],
    ids=["compare", "adaptive"],
)
def test_3_every_writing_command_refuses(here: Path, args: list[str]) -> None:
    name = f"photo.{args[0]}.png"
    mine = users_own(here / name)
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"poolcli: {name}: exists; replace it with --overwrite")
    assert (here / name).read_bytes() == mine
    assert run(*args, "--overwrite").stderr.startswith(f"poolcli: replaced {name} (")


# ---------------------------------------------------------------------------------------------
# 8. Ctrl-C (or SIGTERM) in the first moments: 130 (143), one line, nothing written

HOOK = """\
import os, sys

class SignalOnImport:
    fired = False

    def find_spec(self, name, path=None, target=None):
        if name == os.environ["POOLCLI_TEST_SIGNAL_AT"] and not SignalOnImport.fired:
            SignalOnImport.fired = True
            os.kill(os.getpid(), int(os.environ["POOLCLI_TEST_SIGNUM"]))
        return None

sys.meta_path.insert(0, SignalOnImport())
"""


def poolcli_program() -> list[str]:
    """The installed ``poolcli`` script beside this Python, else ``python -m poolcli``."""
    script = Path(sys.executable).with_name("poolcli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "poolcli"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("module", ["click", "poolcli.cli.commands", "poolcli.batch.runner"])
@pytest.mark.parametrize("how", ["script", "-m"])
def test_8_a_signal_while_poolcli_loads(
    here: Path, signum: int, module: str, how: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The signal arrives while ``import poolcli.cli`` is under way (a sitecustomize sends it
    when ``module`` is first looked for): no traceback, the shell's status, nothing written."""
    hook = tmp_path_factory.mktemp("hook")
    (hook / "sitecustomize.py").write_text(HOOK)
    program = poolcli_program() if how == "script" else [sys.executable, "-m", "poolcli"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hook), str(WORKTREE)]),
        "POOLCLI_TEST_SIGNAL_AT": module,
        "POOLCLI_TEST_SIGNUM": str(int(signum)),
    }
    done = subprocess.run(
        [*program, "max", "photo.png", "-o", "out.png"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    name = signal.Signals(signum).name
    assert (done.returncode, done.stdout) == (128 + signum, "")
    assert done.stderr == f"poolcli: interrupted by {name} before any input was read\n"
    assert not (here / "out.png").exists()


def test_8_ctrl_c_inside_option_parsing_is_130_not_aborted(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(AxesType, "convert", interrupted)
    result = run("max", "photo.png", "-k", "3")
    assert (result.exit_code, result.stdout) == (130, "")
    assert result.stderr == "poolcli: interrupted by SIGINT before any input was read\n"
    assert sorted(os.listdir(here)) == ["photo.png", "shots"]


def test_8_a_real_sigint_while_click_parses(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = AxesType.convert

    def signalled(self: AxesType, *args: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args)

    handler = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(AxesType, "convert", signalled)
    result = run("max", "photo.png", "-k", "3")
    assert (result.exit_code, result.stdout) == (130, "")
    assert result.stderr == "poolcli: interrupted by SIGINT before any input was read\n"
    assert signal.getsignal(signal.SIGINT) is handler
    assert sorted(os.listdir(here)) == ["photo.png", "shots"]


# ---------------------------------------------------------------------------------------------
# 9. Control characters in names are spelled out, every message one line


def test_9_printable() -> None:
    from poolcli.batch.text import printable

    assert printable("a\nb\x1b[2J\x9b\u202e\u2028.png") == "a\\nb\\x1b[2J\\x9b\\u202e\\u2028.png"
    assert printable("café 写真 .png") == "café 写真 .png"


NASTY = "bad\nname\x1b[2J.png"


def test_9_an_error_naming_a_nasty_file_is_one_line(here: Path) -> None:
    result = run("max", "gone\nname\x1b.png")
    assert result.exit_code == 1
    assert result.stderr == "poolcli: gone\\nname\\x1b.png: no such file\n"
    result = run("max", NASTY)  # a glob, for its [
    assert result.stderr == "poolcli: bad\\nname\\x1b[2J.png: no images found\n"


def test_9_a_nasty_name_in_a_batch_report_and_messages(here: Path) -> None:
    save(here / "shots" / NASTY, 40)
    result = run("max", "shots", "--report", "-o", "small")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout + result.stderr
    assert f"input         {os.path.join('shots', 'bad')}\\nname\\x1b[2J.png\n" in result.stdout
    (here / "small" / NASTY).unlink()
    result = run("max", os.path.join("shots", NASTY), "-o", "small")
    assert result.stderr == (
        f"poolcli: wrote {os.path.join('small', 'bad')}\\nname\\x1b[2J.max.png (4x4 -> 2x2)\n"
    )


def test_9_global_and_info_lines(here: Path) -> None:
    save(here / NASTY, 40)
    result = run("global", NASTY)
    assert result.stdout.splitlines() == ["bad\\nname\\x1b[2J.png: avg L=47.5"]
    result = run("info", NASTY)
    assert result.stdout.splitlines()[0] == "input         bad\\nname\\x1b[2J.png"


def test_9_a_usage_error_naming_a_nasty_file(here: Path) -> None:
    save(here / NASTY)
    result = run("max", NASTY, "-o", NASTY)
    assert result.exit_code == 2
    assert result.stderr == (
        "poolcli: refusing to write over the input bad\\nname\\x1b[2J.png; choose another "
        "--output\n"
    )
    result = run("max", "photo.png", "--\x1b[2J")
    assert result.exit_code == 2 and "\x1b" not in result.stderr
    assert result.stderr.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# 12. -o names and --report values that cannot be right: usage errors before any work


@pytest.mark.parametrize("output", ["o.xyz", "o", "o.png.", "o.PNG.exe"])
def test_12_an_output_name_without_a_format_is_a_usage_error(here: Path, output: str) -> None:
    (here / "bad.png").write_text("not a picture: reading it would fail with exit status 1")
    result = run("max", "bad.png", "-o", output)
    assert result.exit_code == 2
    assert result.stderr == (
        f"poolcli: {output}: cannot tell the output format from the name; "
        "use --format png|jpeg|webp|tiff|gif|npy\n"
    )
    assert not (here / output).exists()


def test_12_an_output_name_without_extension_takes_format(here: Path) -> None:
    result = run("max", "photo.png", "-o", "o", "--format", "png")
    assert (result.exit_code, result.stderr) == (0, "poolcli: wrote o (4x4 -> 2x2)\n")


def test_12_report_takes_a_word_as_its_value(here: Path) -> None:
    result = run("max", "--report", "xml", "photo.png")
    assert result.exit_code == 2
    assert (
        result.stderr == "poolcli: invalid value for --report: 'xml' is not one of 'text', 'json'\n"
    )
    assert not (here / "xml.max.png").exists() and not (here / "photo.max.png").exists()


@pytest.mark.parametrize(
    "args",
    [["--report", "photo.png"], ["--report", "json", "photo.png"], ["photo.png", "--report"]],
)
def test_12_a_bare_report_before_input_still_works(here: Path, args: list[str]) -> None:
    result = run("max", *args, "-o", "out.png")
    assert result.exit_code == 0, result.stderr
    assert "photo.png" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        *([op] for op in POOL_OPS),
        ["adaptive", "--to", "1"],
        ["fractional", "--ratio", "0.5"],
        ["compare"],
        ["global"],
    ],
    ids=lambda command: command[0],
)
def test_12_a_file_name_for_several_inputs_is_refused(here: Path, command: list[str]) -> None:
    result = run(*command, "shots/logo.png", "shots/b.png", "-o", "o.png")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "poolcli: -o o.png is not a folder; with 2 inputs, -o names a folder to write "
    )
    assert not (here / "o.png").exists()


# ---------------------------------------------------------------------------------------------
# 14. -o DIR/ is a folder; the folders -o names are made


def test_14_a_trailing_slash_is_a_folder_made_and_written_into(here: Path) -> None:
    result = run("max", "photo.png", "-o", "newdir/")
    assert result.exit_code == 0, result.stderr
    assert (
        result.stderr == f"poolcli: wrote {os.path.join('newdir', 'photo.max.png')} (4x4 -> 2x2)\n"
    )
    assert pixels(here / "newdir" / "photo.max.png").shape == (2, 2)


def test_14_missing_folders_of_an_output_file_are_made(here: Path) -> None:
    result = run("max", "photo.png", "-o", "a/b/out.png")
    assert (result.exit_code, result.stderr) == (0, "poolcli: wrote a/b/out.png (4x4 -> 2x2)\n")
    assert pixels(here / "a" / "b" / "out.png").shape == (2, 2)


def test_14_nothing_is_made_for_an_input_that_fails(here: Path) -> None:
    (here / "bad.png").write_text("not a picture")
    assert run("max", "bad.png", "-o", "newdir/").exit_code == 1
    assert run("max", "bad.png", "-o", "a/b/out.png").exit_code == 1
    assert not (here / "newdir").exists() and not (here / "a").exists()


def test_14_standard_input_with_a_folder_is_a_usage_error(here: Path) -> None:
    result = run("max", "-", "-o", "newdir/", input=(here / "photo.png").read_bytes())
    assert result.exit_code == 2
    assert (
        result.stderr == "poolcli: -o newdir/ is a folder; standard input needs -o FILE or -o -\n"
    )


# ---------------------------------------------------------------------------------------------
# 15. Sizes are height x width, read and printed


def test_15_sizes_print_height_by_width(here: Path) -> None:
    save(here / "wide.png", size=(4, 8))
    result = run("max", "wide.png", "-k", "2x4")
    assert result.stderr == "poolcli: wrote wide.max.png (4x8 -> 2x2)\n"
    assert pixels(here / "wide.max.png").shape == (2, 2)


def test_15_help_says_the_order() -> None:
    for args in (["--help"], ["max", "--help"]):
        assert "Sizes are height x width" in " ".join(run(*args).stdout.split())


# ---------------------------------------------------------------------------------------------
# 16. The smaller ones


@pytest.mark.parametrize("op", ["max", "avg"])
def test_16_to_on_a_pooling_command_points_to_adaptive(here: Path, op: str) -> None:
    result = run(op, "photo.png", "--to", "3")
    assert result.exit_code == 2
    assert result.stderr == (
        "poolcli: no such option '--to'; pooling to a size is 'poolcli adaptive --to HxW' "
        "(or 'poolcli fractional')\n"
    )


def test_16_help_command() -> None:
    assert run("help").stdout == run("--help").stdout
    result = run("help", "max")
    assert (result.exit_code, result.stdout) == (0, run("max", "--help").stdout)
    result = run("help", "bogus")
    assert result.exit_code == 2
    assert result.stderr == "poolcli: no such command 'bogus'; see 'poolcli --help'\n"


def test_16_compare_help_says_frame_0() -> None:
    text = " ".join(run("compare", "--help").stdout.split())
    assert "[default: frame 0]" in text and "every frame" not in text


def test_16_global_help_keeps_the_name_whole() -> None:
    assert "(STEM.global.EXT in it)" in " ".join(run("global", "--help").stdout.split())


def test_16_global_prints_what_float32_holds(here: Path) -> None:
    """The average of 240000 8-bit values in float32: 126.00001 is rounding noise."""
    plane = np.full((400, 600), 126, np.uint8)
    plane[0, 0] = 127
    Image.fromarray(plane).save(here / "flat.png")
    result = run("global", "flat.png")
    assert result.stdout == "flat.png: avg L=126\n"
    result = run("global", "flat.png", "--report", "json")
    assert json.loads(result.stdout)["values"] == [[126]]


def test_16_explain_names_pad_mode_as_the_flag() -> None:
    result = run("explain", "-k", "2", "-p", "3")
    assert result.exit_code == 2
    assert "--pad-mode other than" in result.stderr and "pad_mode" not in result.stderr


# ---------------------------------------------------------------------------------------------
# 2. A stopped run removes only its own temporaries, not another run's in the same folder


def test_2_a_stop_leaves_another_runs_temporaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for index in range(12):
        save(Path("photos") / f"{index:02d}.png", index)
    out = Path("out")
    out.mkdir()
    # Another run writing the same outputs has its temporaries here, named as poolcli names
    # them; and a user keeps a file that looks like one.
    others = {out / f".{index:02d}.png.k3j9x0qa.tmp": b"run B" for index in range(12)}
    others[out / ".00.png.mine.tmp"] = b"a user's file"
    for path, data in others.items():
        path.write_bytes(data)
    calls = 0

    def signal_second(array: np.ndarray, info: Any) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 2:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the signal arrives while this job is in flight
        from poolcli.core import engine

        return engine.pool(array, "max", size=2)

    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Signalling(Pooling):
        def apply(self, array: Any, info: Any, max_pixels: int | None = None) -> Any:
            return signal_second(array, info)

        def quick(self) -> None:
            return None

    from poolcli.batch.console import Console

    lines: list[str] = []
    planned = make_plan(["photos"], op="max", output="out")
    summary = runner.run(
        planned,
        Recipe(Signalling("max", Window.of(size=2))),
        Console(echo=lambda text, err: lines.append(text)),
        runner=runner.ThreadRunner(2),
    )
    assert summary.signal == signal.SIGINT and summary.done < 12
    for path, data in others.items():
        assert path.read_bytes() == data
    ours = [p for p in out.iterdir() if p.name.endswith(".tmp") and p not in others]
    assert ours == []
