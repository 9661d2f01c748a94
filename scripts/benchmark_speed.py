"""How fast namecls trains, predicts and starts on this machine, measured as whole processes.

Prints one markdown table (what, measured, goal, met?) to stdout, then the command line and the
machine; progress goes to stderr. Every namecls figure but `batch1` is the wall time of a real
`namecls ...` process, start-up included.

    python scripts/benchmark_speed.py --threads 1                 # every row; the tutorial takes a while
    python scripts/benchmark_speed.py --quick --threads 1         # smoke test, a minute or two
    python scripts/benchmark_speed.py --only predict,json,memory --model out/namecls.pt --out speed.md

Rows (keys for --only):
  default, manual, rnn  `namecls train --device cpu` with default settings (and --arch manual|rnn)
  tutorial              the 2024 PyTorch tutorial recipe, one name at a time, as in
                        scripts/benchmark_accuracy.py (imported from there, run in its own process);
                        with `default`, also the ratio default / tutorial (goal: at most 15%)
  ddp                   `torchrun --nproc-per-node 2 -m namecls train` (DistributedDataParallel, gloo),
                        and its test accuracy / macro-F1 against the `default` row's one process
  predict, json         `namecls predict - [--json]` on N names drawn from the data (they repeat)
  distinct              the same on N names that never repeat (no answer can be reused): each is two
                        data lines glued, twice a surname's length; the worst case, without a goal
  batch1                `Classifier.predict([name])` in this process, one name at a time
  memory                peak RSS of `namecls predict -` streaming 1,000,000 names (goal: 600 MB)
  cold                  `namecls predict Satoshi` against `python -c "import torch"` (goal: 1.5x)
  cli                   `namecls --help` and `namecls --version` (goal: 0.6 s)

The model for the predict rows: --model, else the one shipped in the package, else the `default`
row's output, else a one-epoch model trained into a temp folder. On a shared machine fix --threads:
small RNNs slow down many times over when torch's threads fight another process for the cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
ACCURACY_SCRIPT = ROOT / "scripts" / "benchmark_accuracy.py"
KEYS = (
    "default",
    "manual",
    "rnn",
    "tutorial",
    "ddp",
    "predict",
    "json",
    "distinct",
    "batch1",
    "memory",
    "cold",
    "cli",
)
TUTORIAL_EPOCHS = 27  # the 2024 tutorial's n_epoch, as in benchmark_accuracy.py
MB = 1024 * 1024

# goals
TRAIN_RATIO_GOAL = 0.15
NAMES_PER_S_GOAL = 30_000
PEAK_RSS_GOAL_MB = 600
COLD_RATIO_GOAL = 1.5
CLI_START_GOAL_S = 0.6
DDP_PROCESSES = 2
# "matches single-process quality": no more than this below one process (test accuracy, macro-F1);
# scoring higher is no failure. Each is one run of the recipe, so the bound is two standard
# deviations of the difference of two runs: 2 * sqrt(2) * the spread of six split seeds with the
# default recipe (0.006, 0.023; `benchmark_accuracy.py --seeds 0,1,2,3,4,5`).
DDP_TOLERANCE = (0.017, 0.065)


@dataclass
class Sizes:
    """How much work each row does."""

    predict_n: int = 100_000
    memory_n: int = 1_000_000
    batch1_n: int = 2_000
    repeats: int = 5
    train_epochs: int | None = None  # None: namecls's own default
    tutorial_epochs: int = TUTORIAL_EPOCHS


QUICK = Sizes(predict_n=20_000, memory_n=50_000, batch1_n=300, repeats=3, train_epochs=1, tutorial_epochs=1)


@dataclass
class Row:
    """One line of the table; `met` is None for a row without a goal."""

    what: str
    value: str
    goal: str = "—"
    met: bool | None = None


@dataclass
class Run:
    """One finished child process."""

    seconds: float  # wall clock, start-up included
    returncode: int
    max_rss_mb: float  # this child's peak resident set size
    stderr: str


@dataclass
class Context:
    """What every row needs: the commands, the data, the environment and a scratch folder."""

    namecls: str
    data_dir: Path
    env: dict[str, str]
    work: Path
    sizes: Sizes
    seed: int
    lines: list[str]  # the data files' lines, to draw names from
    given_model: Path | None = None
    notes: list[str] = field(default_factory=list)
    trained: dict[str, Path] = field(default_factory=dict)  # key -> checkpoint its train row wrote
    train_seconds: dict[str, float] = field(default_factory=dict)  # key -> whole-process train time
    model_note: str | None = None  # which model the predict rows used, and why
    _model: Path | None = None

    def model(self) -> Path:
        """The model for the predict rows, chosen (or trained) on first use."""
        if self._model is None:
            self._model, why = predict_model(self, self.given_model)
            self.model_note = f"{self._model} ({why})"
        return self._model

    def names_file(self, n: int) -> Path:
        """A file of `n` names drawn from the data, written once per size."""
        path = self.work / f"names-{n}.txt"
        return path if path.is_file() else write_names(path, sample_names(self.lines, n, self.seed))

    def distinct_file(self, n: int) -> Path:
        """`n` names that never repeat (two data lines glued together), so no answer is reused."""
        path = self.work / f"distinct-{n}.txt"
        if not path.is_file():
            rng, seen = random.Random(self.seed), set()
            while len(seen) < n:
                seen.add(rng.choice(self.lines) + rng.choice(self.lines).lower())
            write_names(path, iter([sorted(seen, key=lambda _: rng.random())]))
        return path


class BenchError(Exception):
    """A measured command failed; the row reports it and the run goes on."""


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- running child processes ---------------------------------------------------------------------


def run_process(
    cmd: list[str], env: dict[str, str], cwd: Path, stdin: Path | None = None, stdout: Path | None = None
) -> Run:
    """Run `cmd` to the end: wall time, and the peak RSS of that child alone (from wait4).

    getrusage(RUSAGE_CHILDREN) would give the largest of every child so far (a training run
    earlier); wait4 reports this one, the number GNU `time -v` prints.
    """
    err_path = cwd / "stderr.txt"
    with (
        open(stdin or os.devnull, "rb") as fin,
        open(stdout or os.devnull, "wb") as fout,
        open(err_path, "wb") as ferr,
    ):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # we reaped it; tell Popen
    rss = usage.ru_maxrss / (MB if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    return Run(seconds, proc.returncode, rss, err_path.read_text(errors="replace"))


def checked(run: Run, cmd: list[str]) -> Run:
    if run.returncode != 0:
        tail = " | ".join(run.stderr.strip().splitlines()[-3:])
        raise BenchError(f"`{shlex.join(cmd)}` exited {run.returncode}: {tail[-300:]}")
    return run


def median_seconds(cmd: list[str], ctx: Context, repeats: int) -> float:
    """Median wall time of `repeats` runs after one untimed run (which warms the file cache)."""
    checked(run_process(cmd, ctx.env, ctx.work), cmd)
    return statistics.median(
        checked(run_process(cmd, ctx.env, ctx.work), cmd).seconds for _ in range(repeats)
    )


# --- names ---------------------------------------------------------------------------------------


def data_lines(data_dir: Path) -> list[str]:
    """Every non-blank line of every <Language>.txt, as a user would feed them (not normalised)."""
    lines = []
    for path in sorted(data_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8").lstrip("\ufeff")
        lines += [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BenchError(f"no names in {data_dir} (run `make data`)")
    return lines


def sample_names(lines: list[str], n: int, seed: int, chunk: int = 10_000) -> Iterator[list[str]]:
    """`n` lines drawn with replacement, seeded, in chunks."""
    rng = random.Random(seed)
    for start in range(0, n, chunk):
        yield rng.choices(lines, k=min(chunk, n - start))


def write_names(path: Path, chunks: Iterator[list[str]]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for names in chunks:
            f.write("\n".join(names) + "\n")
    return path


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


# --- training --------------------------------------------------------------------------------------


def train_namecls(ctx: Context, key: str, arch: str | None) -> list[Row]:
    """`namecls train` as a user runs it; the epoch count and times come from the checkpoint."""
    from namecls.checkpoint import load_checkpoint

    out = ctx.work / f"{key}.pt"
    cmd = [ctx.namecls, "train", "--data-dir", str(ctx.data_dir), "--out", str(out), "--device", "cpu"]
    cmd += ["--arch", arch] if arch else []
    cmd += ["--epochs", str(ctx.sizes.train_epochs)] if ctx.sizes.train_epochs else []
    run = checked(run_process(cmd, ctx.env, ctx.work), cmd)
    ckpt = load_checkpoint(out)
    hist, cfg = ckpt["history"], ckpt["config"]
    epoch_s = statistics.mean(h["seconds"] for h in hist)
    valid = ckpt["metrics"]["valid"]
    ctx.trained[key], ctx.train_seconds[key] = out, run.seconds
    ctx.notes.append(
        f"train {key}: {cfg['arch']} hidden {cfg['hidden']}{' bi' if cfg['bidirectional'] else ''}, "
        f"{len(hist)} of at most {ckpt['train_config']['epochs']} epochs, "
        f"valid accuracy {valid['accuracy']:.3f}, macro-F1 {valid['macro_f1']:.3f}; "
        f"peak RSS {run.max_rss_mb:.0f} MB."
    )
    label = "default" if arch is None else f"--arch {arch}"
    return [
        Row(
            f"train, namecls {label} (whole process)",
            f"{run.seconds:.1f} s ({plural(len(hist), 'epoch')}, {epoch_s:.1f} s/epoch)",
        )
    ]


def load_accuracy_script(path: Path = ACCURACY_SCRIPT) -> ModuleType:
    """scripts/benchmark_accuracy.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("benchmark_accuracy", path)
    if spec is None or spec.loader is None:
        raise BenchError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def tutorial_worker(data_dir: Path, epochs: int, seed: int) -> dict:
    """Train the tutorial recipe once (in the process the parent times) and say how it went."""
    from namecls.data import load_corpus
    from namecls.train import TrainConfig, prepare

    acc = load_accuracy_script()
    corpus = load_corpus(data_dir)
    split, _ = prepare(corpus, replace(TrainConfig(), seed=seed, split_seed=seed))
    t0 = time.perf_counter()
    row = acc.run_tutorial(acc.subsets(corpus, split), corpus.labels, epochs, True, seed)
    return {
        "train_s": row.train_s,
        "score_s": time.perf_counter() - t0 - row.train_s,  # its test scoring and names/s passes
        "accuracy": row.metrics.accuracy,
        "macro_f1": row.metrics.macro_f1,
    }


def train_tutorial(ctx: Context) -> list[Row]:
    """The tutorial recipe in a process of its own, so its time counts start-up like namecls's."""
    out = ctx.work / "tutorial.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--tutorial-worker",
        "--data-dir",
        str(ctx.data_dir),
    ]
    cmd += ["--epochs", str(ctx.sizes.tutorial_epochs), "--seed", str(ctx.seed)]
    run = checked(run_process(cmd, ctx.env, ctx.work, stdout=out), cmd)
    res = json.loads(out.read_text())
    ctx.notes.append(
        f"train tutorial: scripts/benchmark_accuracy.py's run_tutorial (nn.RNN(58, 128), SGD lr 0.15, "
        f"batches of 64, one name at a time in Python) for {plural(ctx.sizes.tutorial_epochs, 'epoch')} on "
        f"namecls's train split: {res['train_s']:.1f} s in training, {res['score_s']:.1f} s scoring the test "
        f"split (accuracy {res['accuracy']:.3f}, macro-F1 {res['macro_f1']:.3f}), the rest start-up."
    )
    ctx.train_seconds["tutorial"] = run.seconds
    epochs = plural(ctx.sizes.tutorial_epochs, "epoch")
    return [Row("train, 2024 tutorial recipe (whole process)", f"{run.seconds:.1f} s ({epochs})")]


def train_ratio(ctx: Context) -> list[Row]:
    """default / tutorial, when both train rows ran."""
    if not {"default", "tutorial"} <= ctx.train_seconds.keys():
        return []
    ratio = ctx.train_seconds["default"] / ctx.train_seconds["tutorial"]
    return [
        Row(
            "train time, namecls default / tutorial",
            f"{ratio:.1%}",
            f"≤ {TRAIN_RATIO_GOAL:.0%}",
            ratio <= TRAIN_RATIO_GOAL,
        )
    ]


def test_scores(ctx: Context, model: Path) -> tuple[float, float]:
    """Test-split accuracy and macro-F1 of a model, from `namecls evaluate --json`."""
    out = ctx.work / "evaluate.json"
    cmd = [ctx.namecls, "evaluate", "--model", str(model), "--data-dir", str(ctx.data_dir), "--json"]
    checked(run_process(cmd, ctx.env, ctx.work, stdout=out), cmd)
    res = json.loads(out.read_text())
    return res["accuracy"], res["macro_f1"]


def train_ddp(ctx: Context) -> list[Row]:
    """`torchrun` with DDP_PROCESSES CPU processes, the cores shared out; then both models' test scores."""
    from namecls.checkpoint import load_checkpoint

    if "default" not in ctx.trained:
        train_namecls(ctx, "default", None)
    out = ctx.work / "ddp.pt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc-per-node", str(DDP_PROCESSES), "-m", "namecls", "train"]
    cmd += ["--data-dir", str(ctx.data_dir), "--out", str(out), "--device", "cpu"]
    cmd += ["--epochs", str(ctx.sizes.train_epochs)] if ctx.sizes.train_epochs else []
    threads = str(max(1, (os.cpu_count() or 1) // DDP_PROCESSES))
    env = {**ctx.env, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    run = checked(run_process(cmd, env, ctx.work), cmd)
    epochs = len(load_checkpoint(out)["history"])
    one, two = test_scores(ctx, ctx.trained["default"]), test_scores(ctx, out)
    close = all(b >= a - tol for a, b, tol in zip(one, two, DDP_TOLERANCE, strict=True))
    ctx.notes.append(
        f"ddp: {DDP_PROCESSES} processes of {threads} thread(s) each, gloo, each taking half of every "
        "batch of the default size; test split scored by `namecls evaluate`."
    )
    pair = "{:.3f} / {:.3f}"
    return [
        Row(
            f"train, torchrun {DDP_PROCESSES} CPU processes (DDP, whole process)",
            f"{run.seconds:.1f} s ({plural(epochs, 'epoch')})",
        ),
        Row(
            f"test accuracy / macro-F1, {DDP_PROCESSES} processes vs 1",
            f"{pair.format(*two)} vs {pair.format(*one)}",
            "at most {:.3f} / {:.3f} lower".format(*DDP_TOLERANCE),
            close,
        ),
    ]


# --- prediction ------------------------------------------------------------------------------------


def predict_throughput(
    ctx: Context, model: Path, names: Path, n: int, as_json: bool, what: str = "names", goal: bool = True
) -> Row:
    """`namecls predict - --model M` with the names file on stdin; names/s = N / wall time.

    `goal=False`: the row is a measurement without the throughput goal (the worst case).
    """
    out = ctx.work / ("out.json" if as_json else "out.tsv")
    cmd = [ctx.namecls, "predict", "-", "--model", str(model), "--device", "cpu"]
    cmd += ["--json"] if as_json else []
    run = checked(run_process(cmd, ctx.env, ctx.work, stdin=names, stdout=out), cmd)
    got = len(json.loads(out.read_text(encoding="utf-8"))) if as_json else count_lines(out)
    if got != n:
        raise BenchError(f"`{shlex.join(cmd)}` answered {got} of {n} names")
    rate = n / run.seconds
    flag = " --json" if as_json else ""
    what = f"predict -{flag} throughput, {n:,} {what} (whole process)"
    measured = f"{rate:,.0f} names/s ({run.seconds:.1f} s)"
    if not goal:
        return Row(what, measured)
    return Row(what, measured, f"≥ {NAMES_PER_S_GOAL:,} names/s", rate >= NAMES_PER_S_GOAL)


def peak_memory(ctx: Context, model: Path, names: Path, n: int) -> Row:
    """Peak RSS of `namecls predict -` streaming `n` names (output to a file, then counted)."""
    out = ctx.work / "memory.tsv"
    cmd = [ctx.namecls, "predict", "-", "--model", str(model), "--device", "cpu"]
    run = checked(run_process(cmd, ctx.env, ctx.work, stdin=names, stdout=out), cmd)
    if count_lines(out) != n:
        raise BenchError(f"`{shlex.join(cmd)}` answered {count_lines(out)} of {n} names")
    ctx.notes.append(f"memory: {n:,} names took {run.seconds:.1f} s ({n / run.seconds:,.0f} names/s).")
    return Row(
        f"predict - peak RSS, {n:,} names streamed",
        f"{run.max_rss_mb:.0f} MB",
        f"≤ {PEAK_RSS_GOAL_MB} MB",
        run.max_rss_mb <= PEAK_RSS_GOAL_MB,
    )


def batch_of_one(model: Path, names: list[str]) -> list[Row]:
    """`Classifier.predict([name])` in this process, one name after another, after a warm-up."""
    from namecls.predict import Classifier

    clf = Classifier.load(model, "cpu")
    for name in names[:20]:
        clf.predict([name])
    times = []
    for name in names:
        t0 = time.perf_counter()
        clf.predict([name])
        times.append(time.perf_counter() - t0)
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return [
        Row(
            f"predict, batch of 1, {len(names):,} names (in-process)",
            f"{len(names) / sum(times):,.0f} names/s",
        ),
        Row(
            "predict, batch of 1: latency per name",
            f"median {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms",
        ),
    ]


# --- start-up --------------------------------------------------------------------------------------


def cold_start(ctx: Context, model: Path) -> list[Row]:
    """`namecls predict Satoshi` against the floor any torch program pays: importing torch."""
    reps = ctx.sizes.repeats
    predict = median_seconds([ctx.namecls, "predict", "Satoshi", "--model", str(model)], ctx, reps)
    torch_s = median_seconds([sys.executable, "-c", "import torch"], ctx, reps)
    ratio = predict / torch_s
    return [
        Row(f"`namecls predict Satoshi`, median of {reps}", f"{predict:.2f} s"),
        Row(f'`python -c "import torch"`, median of {reps}', f"{torch_s:.2f} s"),
        Row(
            "predict Satoshi / import torch",
            f"{ratio:.2f}×",
            f"≤ {COLD_RATIO_GOAL}×",
            ratio <= COLD_RATIO_GOAL,
        ),
    ]


def cli_start(ctx: Context) -> list[Row]:
    rows = []
    for flag in ("--help", "--version"):
        s = median_seconds([ctx.namecls, flag], ctx, ctx.sizes.repeats)
        goal = f"≤ {CLI_START_GOAL_S} s"
        rows.append(
            Row(f"`namecls {flag}`, median of {ctx.sizes.repeats}", f"{s:.2f} s", goal, s <= CLI_START_GOAL_S)
        )
    return rows


# --- the model, the table, the machine -------------------------------------------------------------


def predict_model(ctx: Context, given: Path | None) -> tuple[Path, str]:
    """--model, else the shipped model, else the default train row's, else a one-epoch model."""
    from namecls.predict import SHIPPED_MODEL

    if given is not None:
        return given, "given with --model"
    if SHIPPED_MODEL.is_file():
        return SHIPPED_MODEL, "shipped in the package"
    if "default" in ctx.trained:
        return ctx.trained["default"], "the default train row's output"
    out = ctx.work / "one-epoch.pt"
    note("no shipped model: training a default model for one epoch for the predict rows")
    cmd = [ctx.namecls, "train", "--data-dir", str(ctx.data_dir), "--out", str(out), "--device", "cpu"]
    cmd += ["--epochs", "1"]
    checked(run_process(cmd, ctx.env, ctx.work), cmd)
    return out, "no shipped model: default settings, trained for one epoch"


def markdown_table(head: list[str], body: list[list[str]]) -> list[str]:
    """Aligned markdown: the first column left, the others right."""
    w = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return (
            "| " + " | ".join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells)) + " |"
        )

    rule = "|" + "|".join("-" * (w[0] + 2) if i == 0 else "-" * (w[i] + 1) + ":" for i in range(len(w))) + "|"
    return [line(head), rule, *(line(b) for b in body)]


def render(rows: list[Row], notes: list[str], machine: list[str]) -> str:
    met = {True: "yes", False: "no", None: "—"}
    body = [[r.what, r.value, r.goal, met[r.met]] for r in rows]
    table = markdown_table(["what", "measured", "goal", "met?"], body)
    listed = ["", *(f"- {n}" for n in notes)] if notes else []
    return "\n".join([*table, *listed, "", *machine]) + "\n"


def machine_lines(argv: list[str], threads: int | None, model: str | None) -> list[str]:
    import torch

    from namecls import __version__

    try:
        cpu = load_accuracy_script().cpu_name()
    except Exception:  # that script is someone else's; a long run must still print its table
        cpu = platform.processor() or platform.machine()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    child_threads = f"OMP_NUM_THREADS={threads}" if threads else "torch's default threads"
    return [
        "Reproduce: `" + shlex.join(["python", "scripts/benchmark_speed.py", *argv]) + "`",
        f"Machine: {cpu}, {os.cpu_count()} logical CPUs, load average {load} (1, 5, 15 min) at the end; "
        f"{platform.platform()}; Python {platform.python_version()}; torch {torch.__version__}; "
        f"torch threads in this process: {torch.get_num_threads()}; child processes: {child_threads}; "
        f"namecls {__version__}" + (f"; predict model: {model}" if model else "") + ".",
    ]


# --- main ------------------------------------------------------------------------------------------


def parse_keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in KEYS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown row(s) {', '.join(unknown) or text!r}; choose from {', '.join(KEYS)}"
        )
    return keys


def namecls_command() -> str:
    """The `namecls` script beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "namecls"
    found = str(beside) if beside.is_file() else shutil.which("namecls")
    if not found:
        raise BenchError("no `namecls` command: install the package (`make install`)")
    return found


def child_env(threads: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NAMECLS_MODEL"}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, metavar="PATH", help="model for the predict rows")
    ap.add_argument("--data-dir", type=Path, default=ROOT / "data" / "names", metavar="DIR")
    ap.add_argument("--quick", action="store_true", help="small sizes and one epoch everywhere: a smoke test")
    ap.add_argument("--only", type=parse_keys, metavar="KEY,...", default=list(KEYS), help=",".join(KEYS))
    ap.add_argument(
        "--threads", type=int, metavar="N", help="torch threads here and OMP_NUM_THREADS for every child"
    )
    ap.add_argument("--n", type=int, metavar="N", help="names for predict and json (default 100,000)")
    ap.add_argument("--memory-n", type=int, metavar="N", help="names for memory (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=0, help="which names are drawn; the tutorial's seed")
    ap.add_argument("--out", type=Path, metavar="FILE.md", help="also write the table to this file")
    ap.add_argument("--tutorial-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--epochs", type=int, default=TUTORIAL_EPOCHS, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.tutorial_worker:
        print(json.dumps(tutorial_worker(args.data_dir, args.epochs, args.seed)))
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    sizes = QUICK if args.quick else Sizes()
    sizes = replace(sizes, predict_n=args.n or sizes.predict_n, memory_n=args.memory_n or sizes.memory_n)
    data_dir = args.data_dir.resolve()
    given = args.model.resolve() if args.model else None  # the children run in a temp folder
    try:
        if given is not None and not given.is_file():
            raise BenchError(f"model file {args.model} does not exist")
        lines = data_lines(data_dir)
        cmd = namecls_command()
    except BenchError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    rows: list[Row] = []
    failed = interrupted = False
    with tempfile.TemporaryDirectory(prefix="namecls-speed-") as tmp:
        ctx = Context(cmd, data_dir, child_env(args.threads), Path(tmp), sizes, args.seed, lines, given)
        n, n_mem, n_one = sizes.predict_n, sizes.memory_n, sizes.batch1_n
        steps: dict[str, tuple[str, Callable[[], list[Row]]]] = {
            "default": ("train, namecls default", lambda: train_namecls(ctx, "default", None)),
            "manual": ("train, namecls --arch manual", lambda: train_namecls(ctx, "manual", "manual")),
            "rnn": ("train, namecls --arch rnn", lambda: train_namecls(ctx, "rnn", "rnn")),
            "tutorial": ("train, 2024 tutorial recipe", lambda: train_tutorial(ctx) + train_ratio(ctx)),
            "ddp": ("train, DistributedDataParallel", lambda: train_ddp(ctx)),
            "predict": (
                "predict - throughput",
                lambda: [predict_throughput(ctx, ctx.model(), ctx.names_file(n), n, False)],
            ),
            "json": (
                "predict - --json throughput",
                lambda: [predict_throughput(ctx, ctx.model(), ctx.names_file(n), n, True)],
            ),
            "distinct": (
                "predict - throughput, no repeated names",
                lambda: [
                    predict_throughput(
                        ctx, ctx.model(), ctx.distinct_file(n), n, False, "distinct names", goal=False
                    )
                ],
            ),
            "batch1": (
                "predict, batch of 1",
                lambda: batch_of_one(ctx.model(), next(sample_names(lines, n_one, args.seed, n_one))),
            ),
            "memory": (
                "predict - peak RSS",
                lambda: [peak_memory(ctx, ctx.model(), ctx.names_file(n_mem), n_mem)],
            ),
            "cold": ("cold start", lambda: cold_start(ctx, ctx.model())),
            "cli": ("namecls --help / --version", lambda: cli_start(ctx)),
        }
        for key in [k for k in KEYS if k in args.only]:
            what, step = steps[key]
            note(f"[{key}] {what}")
            t0 = time.perf_counter()
            try:
                new = step()
            except BenchError as e:
                failed = True
                note(f"  failed: {e}")
                ctx.notes.append(f"{key} failed: {e}")
                new = [Row(what, "failed", met=False)]
            except KeyboardInterrupt:
                note("interrupted: the table has the rows finished so far")
                interrupted = True
                break
            for r in new:
                note(f"  {r.what}: {r.value}")
            note(f"  ({time.perf_counter() - t0:.0f} s)")
            rows += new

    notes = ctx.notes
    if args.quick:
        notes.insert(0, "QUICK RUN (one epoch per train row, small N): a smoke test, not a benchmark.")
    text = render(rows, notes, machine_lines(argv, args.threads, ctx.model_note))
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        note(f"wrote {args.out}")
    return 130 if interrupted else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
