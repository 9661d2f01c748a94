"""The `namecls` command: typer for parsing, rich for output. The only module that prints.

torch is imported inside the commands, so `namecls --help` and `--version` stay fast.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from namecls import __version__
from namecls.errors import NameclsError, UsageError

app = typer.Typer(
    name="namecls",
    help="Which language does a surname come from? A character-level RNN classifier.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder of <Language>.txt files, one name a line.")]
Device = Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")]
ModelPath = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10 too
    typer.Option("--model", help="Model file. Default: out/namecls.pt if it exists, else the shipped model."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (no markup) instead of tables.")]


@contextmanager
def _errors() -> Iterator[None]:
    """Turn errors a user can cause into one `Error: ...` line and an exit code, never a traceback."""
    try:
        yield
    except BrokenPipeError:  # the reader went away (`| head -1`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except NameclsError as e:
        err.print(f"[red]Error:[/red] {e}")
        raise typer.Exit(e.exit_code) from None
    except OSError as e:
        err.print(f"[red]Error:[/red] {e.strerror or e}{f': {e.filename}' if e.filename else ''}")
        raise typer.Exit(1) from None


def _version(value: bool) -> None:
    if value:
        out.print(f"namecls {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Which language does a surname come from? A character-level RNN classifier.

    Example: namecls predict Satoshi Ivanov
    """


def _load(model: Path | None, device: str):
    from namecls.predict import Classifier, resolve_model

    path, why = resolve_model(model)
    clf = Classifier.load(path, device)
    note = {
        "shipped": " (shipped with namecls)",
        "trained": " (default training output)",
        "NAMECLS_MODEL": " (from NAMECLS_MODEL)",
    }.get(why, "")
    err.print(f"[dim]using model {path}{note} on {clf.device}[/dim]")
    return clf


@app.command()
def train(
    data_dir: DataDir = Path("data/names"),
    out_path: Annotated[
        Optional[Path], typer.Option("--out", help="Where to write the model. Default: out/namecls.pt.")  # noqa: UP045
    ] = None,
    arch: Annotated[str, typer.Option(help="Recurrent cell: manual, rnn, gru or lstm.")] = "gru",
    epochs: Annotated[int, typer.Option(min=1, help="Most epochs; early stopping may end sooner.")] = 20,
    hidden: Annotated[int, typer.Option(min=1, help="Hidden units per direction.")] = 256,
    lr: Annotated[
        float, typer.Option(min=0.0, help="Peak learning rate (AdamW, one-cycle schedule).")
    ] = 3e-3,
    batch_size: Annotated[int, typer.Option(min=1, help="Names per batch.")] = 64,
    seed: Annotated[int, typer.Option(help="Seeds the split, the initial weights and the batch order.")] = 0,
    device: Device = "auto",
) -> None:
    """Train a model on a data folder and save the best validation epoch.

    Example: namecls train --arch gru --epochs 20 --out out/gru.pt
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from namecls.device import select_device
    from namecls.model import ARCHS, ModelConfig
    from namecls.predict import DEFAULT_OUT
    from namecls.train import TrainConfig, fit

    with _errors():
        if arch not in ARCHS:
            raise UsageError(f"unknown --arch {arch!r}: choose from {', '.join(ARCHS)}")
        dev = select_device(device)
        target = out_path or DEFAULT_OUT
        mcfg = ModelConfig(arch=arch, hidden=hidden)
        tcfg = TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, split_seed=seed)
        err.print(
            f"[dim]training {arch} (hidden {hidden}) on {data_dir} for up to {epochs} epochs "
            f"on {dev}; best model -> {target}[/dim]"
        )

        stop = {"signal": None}

        def on_signal(signum, _frame):
            stop["signal"] = signum

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        progress = Progress(
            TextColumn("epoch"),
            MofNCompleteColumn(),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        )
        try:
            with progress:
                task = progress.add_task("train", total=epochs, info="")

                def on_epoch(log):
                    star = " *" if log.best else ""
                    progress.update(
                        task,
                        advance=1,
                        info=f"loss {log.train_loss:.3f}  valid acc "
                        f"{log.valid_accuracy:.3f}  macro-F1 {log.valid_macro_f1:.3f}{star}",
                    )

                result = fit(
                    data_dir,
                    mcfg,
                    tcfg,
                    dev,
                    out=target,
                    on_epoch=on_epoch,
                    should_stop=lambda: stop["signal"] is not None,
                )
        finally:
            for s, h in old.items():
                signal.signal(s, h)

        if result.interrupted:
            where = (
                f"best model so far kept at {target}"
                if result.checkpoint
                else "no epoch finished, nothing saved"
            )
            err.print(f"interrupted: {where}")
            raise typer.Exit(130)
        v = result.valid
        err.print(f"saved {target}")
        out.print(
            f"valid accuracy {v.accuracy:.4f}  macro-F1 {v.macro_f1:.4f}  top-3 {v.top3_accuracy:.4f}  "
            f"epochs {len(result.history)}  temperature {result.checkpoint['temperature']:.3f}"
        )


def _heat(value: int, row_total: int) -> str:
    if value == 0:
        return "[dim]·[/dim]"
    share = value / max(row_total, 1)
    style = "bold white on red" if share >= 0.5 else "white on dark_orange3" if share >= 0.2 else "yellow"
    return f"[{style}]{value}[/{style}]"


def _print_evaluation(ev) -> None:
    m = ev.metrics
    summary = Table(title=f"split: {ev.split}  ({m.n} names)", show_header=False)
    for key, value in [
        ("accuracy", m.accuracy),
        ("macro-F1", m.macro_f1),
        ("top-3 accuracy", m.top3_accuracy),
        ("calibration error (ECE)", m.ece),
        ("mean NLL", m.nll),
    ]:
        summary.add_row(key, f"{value:.4f}")
    out.print(summary)

    per = Table(title="per language")
    for col in ("language", "precision", "recall", "F1", "support"):
        per.add_column(col, justify="left" if col == "language" else "right")
    for lab, r in m.per_class.items():
        per.add_row(lab, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", str(r["support"]))
    out.print(per)

    labels, mat = m.confusion["labels"], m.confusion["matrix"]
    conf = Table(title="confusion (rows: true, columns: predicted)", padding=(0, 0))
    conf.add_column("")
    for lab in labels:
        conf.add_column(lab[:3], justify="right")
    for lab, row in zip(labels, mat, strict=True):
        conf.add_row(lab[:3], *(" " + _heat(v, sum(row)) for v in row))
    out.print(conf)
    pairs = ", ".join(f"{a}→{b} {n}" for a, b, n in m.most_confused())
    out.print(f"most confused: {pairs or 'none'}")


@app.command()
def evaluate(
    model: ModelPath = None,
    data_dir: DataDir = Path("data/names"),
    split: Annotated[
        str, typer.Option(help="train, valid or test (re-made from the model's record), or all.")
    ] = "test",
    as_json: JsonFlag = False,
    device: Device = "auto",
) -> None:
    """Score a model: accuracy, macro-F1, per-language table, confusion matrix.

    Example: namecls evaluate --split test --json
    """
    from namecls.data import load_corpus
    from namecls.evaluate import evaluate_split

    with _errors():
        if split not in ("train", "valid", "test", "all"):
            raise UsageError(f"unknown --split {split!r}: choose train, valid, test or all")
        clf = _load(model, device)
        corpus = load_corpus(data_dir, min_languages=1 if split == "all" else 2)
        ev = evaluate_split(clf, corpus, split)
        if split != "all" and not ev.same_data:
            err.print(
                "[yellow]warning:[/yellow] this data folder differs from the one the model was trained "
                "on; the split re-made here may overlap its training names"
            )
        for n, why in [
            (ev.skipped_unknown_label, "of languages the model does not know"),
            (ev.skipped_no_letters, "with no letters"),
        ]:
            if n:
                err.print(f"[yellow]skipped {n} names {why}[/yellow]")
        if as_json:
            m = ev.metrics
            print(
                json.dumps(
                    {
                        "accuracy": m.accuracy,
                        "macro_f1": m.macro_f1,
                        "n": m.n,
                        "per_class": m.per_class,
                        "confusion": m.confusion,
                    }
                )
            )
        else:
            _print_evaluation(ev)


def _read_names(names: list[str]) -> Iterator[str]:
    """Arguments as given; `-` stands for stdin, one name a line."""
    for n in names:
        if n == "-":
            for line in sys.stdin:
                yield line.rstrip("\r\n")
        else:
            yield n


def _bar(p: float, width: int = 20) -> str:
    full = round(p * width)
    return "[green]" + "█" * full + "[/green][dim]" + "·" * (width - full) + "[/dim]"


@app.command()
def predict(
    names: Annotated[
        list[str], typer.Argument(help="Names to classify; - reads one name a line from stdin.")
    ],
    model: ModelPath = None,
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, help="How many languages to list per name.")
    ] = 3,
    as_json: JsonFlag = False,
    device: Device = "auto",
) -> None:
    """Most likely languages for each name, with probabilities.

    Example: namecls predict Satoshi Ivanov --top-k 3
    Example: cut -f1 people.tsv | namecls predict - --json
    """
    with _errors():
        clf = _load(model, device)
        results = clf.predict_stream(_read_names(names), top_k)
        n_ok = n_bad = 0
        if as_json:
            sys.stdout.write("[")
            for i, p in enumerate(results):
                n_ok, n_bad = n_ok + (p.error is None), n_bad + (p.error is not None)
                sys.stdout.write(("," if i else "") + "\n" + json.dumps(p.to_dict(), ensure_ascii=False))
            sys.stdout.write("\n]\n")
        elif sys.stdout.isatty() and "-" not in names:
            table = Table(show_header=True)
            for col in ("name", "language", "probability", ""):
                table.add_column(col, justify="right" if col == "probability" else "left")
            for p in results:
                n_ok, n_bad = n_ok + (p.error is None), n_bad + (p.error is not None)
                if p.error:
                    table.add_row(p.name, f"[yellow]{p.error}[/yellow]", "", "", end_section=True)
                for j, (lab, prob) in enumerate(p.predictions):
                    table.add_row(
                        p.name if j == 0 else "",
                        lab,
                        f"{prob:.3f}",
                        _bar(prob),
                        end_section=j == len(p.predictions) - 1,
                    )
            out.print(table)
        else:  # plain lines for pipes: name, then label and probability pairs, tab-separated
            for p in results:
                n_ok, n_bad = n_ok + (p.error is None), n_bad + (p.error is not None)
                cells = [f"{lab}\t{prob:.4f}" for lab, prob in p.predictions] or [f"error: {p.error}"]
                sys.stdout.write(p.name + "\t" + "\t".join(cells) + "\n")
        sys.stdout.flush()
        if n_bad and not n_ok:
            raise UsageError("no name had letters to classify")


def main() -> None:
    """Entry point for the `namecls` script and `python -m namecls`."""
    app()
