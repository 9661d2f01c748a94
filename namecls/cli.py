"""The `namecls` command: typer for parsing, rich for output. The only module that prints.

torch is imported inside the commands, so `namecls --help` and `--version` stay fast.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
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
    typer.Option(
        "--model",
        help="Model file. Default: $NAMECLS_MODEL, else out/namecls.pt if present, else the shipped one.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (no markup) instead of tables.")]


@contextmanager
def _errors() -> Iterator[None]:
    """Turn errors a user can cause into one `Error: ...` line and an exit code, never a traceback."""
    try:
        yield
    except BrokenPipeError:  # the reader went away (`| head -1`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except NameclsError as e:
        err.print("[red]Error:[/red] " + escape(str(e)))
        raise typer.Exit(e.exit_code) from None
    except OSError as e:
        err.print(
            "[red]Error:[/red] " + escape(f"{e.strerror or e}{f': {e.filename}' if e.filename else ''}")
        )
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
    err.print(f"[dim]using model {escape(str(path))}{note} on {clf.device}[/dim]")
    return clf


@app.command()
def train(
    data_dir: DataDir = Path("data/names"),
    out_path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--out", help="Where to write the model. Default: out/namecls.pt (or the --resume file)."
        ),
    ] = None,
    arch: Annotated[
        Optional[str], typer.Option(help="Recurrent cell: manual, rnn, gru or lstm. [default: lstm]")  # noqa: UP045
    ] = None,
    epochs: Annotated[
        Optional[int], typer.Option(min=1, help="Most epochs; early stopping may end sooner.")  # noqa: UP045
    ] = None,
    hidden: Annotated[Optional[int], typer.Option(min=1, help="Hidden units per direction.")] = None,  # noqa: UP045
    lr: Annotated[
        Optional[float], typer.Option(min=0.0, help="Peak learning rate (AdamW, one-cycle schedule).")  # noqa: UP045
    ] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Names per batch.")] = None,  # noqa: UP045
    logit_adjust: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(min=0.0, help="tau: subtract tau x log(class prior) from the logits; 0 turns it off."),
    ] = None,
    precision: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="fp32, or amp: mixed precision training (float16 on CUDA, bfloat16 on CPU)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds the split, the initial weights and the batch order.")] = 0,
    resume: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Carry on an interrupted run from its checkpoint (its settings win)."),
    ] = None,
    device: Device = "auto",
) -> None:
    """Train a model on a data folder and save the best validation epoch.

    Options left out take the defaults of ModelConfig and TrainConfig (see `namecls info`).

    Example: namecls train --arch gru --epochs 20 --out out/gru.pt
    """
    from dataclasses import asdict, replace

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from namecls import distributed
    from namecls.checkpoint import load_checkpoint, save_checkpoint
    from namecls.data import load_corpus
    from namecls.device import select_device
    from namecls.model import ARCHS, ModelConfig
    from namecls.predict import DEFAULT_OUT
    from namecls.train import PRECISIONS, TrainConfig, fit

    def given(**kw):
        return {k: v for k, v in kw.items() if v is not None}

    with _errors():
        if arch is not None and arch not in ARCHS:
            raise UsageError(f"unknown --arch {arch!r}: choose from {', '.join(ARCHS)}")
        if precision is not None and precision not in PRECISIONS:
            raise UsageError(f"unknown --precision {precision!r}: choose from {', '.join(PRECISIONS)}")
        dev = distributed.init(select_device(device))  # under torchrun: join the group, take a GPU each
        lead = distributed.rank_and_size()[0] == 0  # only the first process talks and writes
        ckpt = load_checkpoint(resume) if resume else None
        target = out_path or resume or DEFAULT_OUT
        if ckpt is not None and lead and Path(target).resolve() != Path(resume).resolve():
            save_checkpoint(target, ckpt)  # the run goes on in --out, which holds it from the start
        mcfg = replace(ModelConfig(), **given(arch=arch, hidden=hidden))
        tcfg = replace(
            TrainConfig(),
            **given(
                epochs=epochs, lr=lr, batch_size=batch_size, logit_adjust=logit_adjust, precision=precision
            ),
            seed=seed,
            split_seed=seed,
        )
        note, res = (err, out) if lead else (Console(quiet=True), Console(quiet=True))
        if ckpt is not None:
            mcfg, tcfg = ModelConfig.from_dict(ckpt["config"]), TrainConfig.from_dict(ckpt["train_config"])
        corpus = load_corpus(data_dir)
        for c in corpus.counts:
            if c.kept == 0:
                warn = f"skipped {c.label}: none of its {c.read} lines is a usable name"
                note.print(f"[yellow]warning:[/yellow] {warn}")
        settings = Table(title="settings", show_header=False, box=None, padding=(0, 2))
        shown = {
            **{k: v for k, v in asdict(mcfg).items() if k not in ("vocab_size", "n_classes")},
            **asdict(tcfg),
        }
        items = [f"[dim]{k}[/dim] {v}" for k, v in shown.items()]
        for i in range(0, len(items), 4):
            settings.add_row(*items[i : i + 4])
        note.print(settings)
        what = f"resuming {resume}" if ckpt else f"training {mcfg.arch} (hidden {mcfg.hidden})"
        note.print(
            f"[dim]{what} on {data_dir} ({len(corpus)} names, {len(corpus.labels)} languages) for up to "
            f"{tcfg.epochs} epochs on {dev}; best model -> {target}[/dim]"
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
            console=note,
            disable=not lead,
        )
        try:
            with progress:
                done = len(ckpt["history"]) if ckpt else 0
                task = progress.add_task("train", total=tcfg.epochs, completed=done, info="")

                def on_epoch(log):
                    star = " *" if log.best else ""
                    info = (
                        f"loss {log.train_loss:.3f}  valid acc {log.valid_accuracy:.3f}  "
                        f"macro-F1 {log.valid_macro_f1:.3f}{star}"
                    )
                    progress.update(task, completed=log.epoch, info=info)

                result = fit(
                    data_dir,
                    mcfg,
                    tcfg,
                    dev,
                    out=target,
                    on_epoch=on_epoch,
                    corpus=corpus,
                    should_stop=lambda: stop["signal"] is not None,
                    resume=ckpt,
                )
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            distributed.shutdown()

        if result.interrupted:
            if result.checkpoint:
                note.print(
                    f"interrupted: best model so far kept at {target}; carry on with --resume {target}"
                )
            else:
                note.print("interrupted before the first epoch ended: nothing saved")
            raise typer.Exit(130)
        v = result.valid
        note.print(f"saved {target}")
        best = max(h.epoch for h in result.history if h.best)
        summary = Table(title="trained", show_header=False)
        for key, value in [
            ("model", str(target)),
            ("epochs run / best", f"{len(result.history)} / {best}"),
            ("time", f"{sum(h.seconds for h in result.history):.1f} s"),
            ("valid accuracy", f"{v.accuracy:.4f}"),
            ("valid macro-F1", f"{v.macro_f1:.4f}"),
            ("valid top-3 accuracy", f"{v.top3_accuracy:.4f}"),
            ("valid ECE (calibrated)", f"{v.ece:.4f}"),
            ("temperature", f"{result.checkpoint['temperature']:.3f}"),
        ]:
            summary.add_row(key, value)
        res.print(summary)


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
        ("ECE before calibration", ev.ece_uncalibrated),
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
    plot: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Also draw the confusion matrix into this image (.png, .svg, .pdf); needs matplotlib."
        ),
    ] = None,
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
        if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise UsageError(f"--plot {plot}: use a .png, .svg or .pdf file name")
        clf = _load(model, device)
        corpus = load_corpus(data_dir, min_languages=1 if split == "all" else 2)
        ev = evaluate_split(clf, corpus, split)
        if split != "all" and not ev.same_data:
            err.print(
                "[yellow]warning:[/yellow] this data folder differs from the one the model was trained "
                "on; the split re-made here may overlap its training names"
            )
        if ev.skipped_unknown_label:
            skipped = f"skipped {ev.skipped_unknown_label} names of languages the model does not know"
            err.print(f"[yellow]{skipped}[/yellow]")
        if plot is not None:
            from namecls.plot import save_confusion

            save_confusion(
                ev.metrics.confusion, plot, f"{clf.path.name} on the {split} split ({ev.metrics.n} names)"
            )
            err.print(f"wrote {escape(str(plot))}")
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


def _utf8_lines(path: Path) -> Iterator[str]:
    """Lines of a UTF-8 file (a leading byte-order mark dropped); a bad byte is an error naming its line."""
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{path} is not UTF-8 (line {lineno})") from None
            yield line.lstrip("\ufeff") if lineno == 1 else line


def _read_rows(path: Path, column: str | None) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Rows of a .csv (`column` names the name column) or of a text file (one name a line)."""
    if not path.is_file():
        raise NameclsError(f"input file {path} does not exist")
    if path.suffix.lower() in (".csv", ".tsv"):
        if not column:
            raise UsageError(f"--input {path} is a table: say which column holds the names with --column")
        reader = csv.DictReader(_utf8_lines(path), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        fields = list(reader.fieldnames or [])
        if column not in fields:
            raise UsageError(f"{path} has no column {column!r} (it has: {', '.join(fields)})")
        return fields, iter(reader)
    if column:
        raise UsageError("--column goes with a .csv or .tsv --input")
    return ["name"], ({"name": line.rstrip("\r\n")} for line in _utf8_lines(path))


class _Sink:
    """Writes predictions to stdout (table, tab-separated lines or JSON) or to a .csv/.jsonl file."""

    def __init__(self, fmt: str, fields: list[str], output: Path | None):
        self.fmt, self.fields, self.n, self.output = fmt, fields, 0, output
        # a file output is written beside its target and renamed at close: never half-written
        self.tmp = output.with_name(f".{output.name}.tmp") if output else None
        self.file = self.tmp.open("w", newline="", encoding="utf-8") if self.tmp else sys.stdout
        self.table: Table | None = None
        self._lines: dict[str, tuple] = {}  # name -> (its Prediction, its formatted line)
        if fmt == "csv":
            self.csv = csv.writer(self.file)
            self.csv.writerow([*fields, "label", "probability", "top_k", "error"])
        elif fmt == "json":
            self.file.write("[")
        elif fmt == "table":
            self.table = Table()
            for col in ("name", "language", "probability", ""):
                self.table.add_column(col, justify="right" if col == "probability" else "left")

    def write(self, row: dict[str, str] | None, p) -> None:
        """One answer; `row` is the input record it belongs to (None: just the name)."""
        if self.fmt in ("tsv", "json"):  # the hot path for pipes
            self.file.write(("," if self.n and self.fmt == "json" else "") + self._line(p))
            self.n += 1
            return
        row = row if row is not None else {"name": p.name}
        top = p.predictions[0] if p.predictions else ("", None)
        if self.fmt == "csv":
            ranked = ";".join(f"{lab}:{prob:.4f}" for lab, prob in p.predictions)
            prob = f"{top[1]:.6f}" if top[1] is not None else ""
            self.csv.writerow([*(row.get(f, "") for f in self.fields), top[0], prob, ranked, p.error or ""])
        elif self.fmt == "jsonl":
            d = p.to_dict()
            rec = {**row, "label": top[0] or None, "probability": top[1], "predictions": d["predictions"]}
            rec.update({k: d[k] for k in ("error", "parts") if k in d})
            self.file.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            self._table_row(p)
        self.n += 1

    def _line(self, p) -> str:
        """The tab-separated or JSON line for an answer, formatted once per answer.

        The classifier hands out the same (frozen) Prediction for every repeat of a name, so a
        line made for it stands as long as the object is the same one.
        """
        seen = self._lines.get(p.name)
        if seen is not None and seen[0] is p:
            return seen[1]
        if self.fmt == "json":
            line = "\n" + p.to_json()
        else:
            cells = "\t".join(f"{lab}\t{prob:.4f}" for lab, prob in p.predictions) or f"error: {p.error}"
            line = f"{p.name}\t{cells}\n"
        if len(self._lines) < 100_000:
            self._lines[p.name] = (p, line)
        return line

    def _table_row(self, p) -> None:
        t = self.table
        if p.error:
            t.add_row(p.name, f"[yellow]{p.error}[/yellow]", "", "", end_section=True)
            return
        for j, (lab, prob) in enumerate(p.predictions):
            t.add_row(
                p.name if j == 0 else "",
                lab,
                f"{prob:.3f}",
                _bar(prob),
                end_section=j == len(p.predictions) - 1 and not p.parts,
            )
        for part in p.parts or []:
            lab, prob = part.predictions[0]
            t.add_row(
                f"[dim]  {part.name}[/dim]",
                f"[dim]{lab}[/dim]",
                f"[dim]{prob:.3f}[/dim]",
                "",
                end_section=part is p.parts[-1],
            )

    def close(self) -> None:
        if self.fmt == "json":
            self.file.write("\n]\n")
        elif self.table is not None:
            out.print(self.table)
        self.file.flush()
        if self.tmp is not None:
            self.file.close()
            os.replace(self.tmp, self.output)

    def abandon(self) -> None:
        """Drop a file output that was not finished."""
        if self.tmp is not None:
            self.file.close()
            self.tmp.unlink(missing_ok=True)


def _bar(p: float, width: int = 20) -> str:
    full = round(p * width)
    return "[green]" + "█" * full + "[/green][dim]" + "·" * (width - full) + "[/dim]"


@app.command()
def predict(
    names: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(help="Names to classify; - reads one name a line from stdin."),
    ] = None,
    model: ModelPath = None,
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, help="How many languages to list per name.")
    ] = 3,
    as_json: JsonFlag = False,
    input_path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--input", "-i", help="Read names from a file: one a line, or a .csv/.tsv with --column."
        ),
    ] = None,
    column: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The --input table's column that holds the names."),
    ] = None,
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--output",
            "-o",
            help="Write results to a .csv or .jsonl file: input columns + label, probability, top-k.",
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Show how each part of a full name scored on its own.")
    ] = False,
    device: Device = "auto",
) -> None:
    """Most likely languages for each name, with probabilities.

    A full name ("Satoshi Nakamoto", "van der Berg") is split at spaces and hyphens; its parts are
    scored alone and combined by summing their log-probabilities.

    Example: namecls predict Satoshi Ivanov --top-k 3

    Example: cut -f1 people.tsv | namecls predict - --json

    Example: namecls predict --input people.csv --column surname --output labelled.csv
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with _errors():
        names = names or []
        if not names and input_path is None:
            raise UsageError("give names, - for stdin, or --input FILE")
        if names and input_path is not None:
            raise UsageError("give names or --input, not both")
        if output is not None and output.suffix.lower() not in (".csv", ".jsonl"):
            raise UsageError(f"--output {output}: use a .csv or .jsonl file name")
        if output is not None and input_path is not None and output.resolve() == input_path.resolve():
            raise UsageError(f"--output {output} is the --input file: write the results elsewhere")
        pending: deque[dict[str, str]] = deque()  # --input rows read but not yet answered
        if input_path is not None:
            fields, rows = _read_rows(input_path, column)
            key = column or "name"

            def texts() -> Iterator[str]:
                for row in rows:
                    pending.append(row)
                    yield row.get(key) or ""  # a short row has no cell there: no letters

        else:
            fields = ["name"]

            def texts() -> Iterator[str]:
                return _read_names(names)

        clf = _load(model, device)
        if output is not None:
            fmt = output.suffix.lower().lstrip(".")
        elif as_json:
            fmt = "json"
        elif sys.stdout.isatty() and "-" not in names and input_path is None:
            fmt = "table"
        else:
            fmt = "tsv"
        sink = _Sink(fmt, fields, output)
        n_ok = n_bad = 0
        show = output is not None or input_path is not None
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.completed:,} names"),
            TimeElapsedColumn(),
            console=err,
            disable=not show,
            transient=True,
        ) as progress:
            task = progress.add_task("predict")
            try:
                for p in clf.predict_stream(texts(), top_k, explain):
                    sink.write(pending.popleft() if pending else None, p)  # answers come in input order
                    n_ok, n_bad = n_ok + (p.error is None), n_bad + (p.error is not None)
                    if sink.n % 4096 == 0:
                        progress.update(task, completed=sink.n)
            except BaseException:
                sink.abandon()
                raise
        sink.close()
        if output is not None:
            err.print(f"wrote {sink.n} rows to {output}")
        if n_bad and not n_ok:
            raise UsageError("no name had letters to classify")


@app.command()
def data(
    data_dir: DataDir = Path("data/names"),
    seed: Annotated[int, typer.Option(help="Split seed to show the split sizes for.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Show what the loader makes of a data folder: counts, drops, duplicates, split sizes.

    Example: namecls data --data-dir data/names
    """
    from namecls.data import load_corpus, split_indices

    with _errors():
        corpus = load_corpus(data_dir, min_languages=1)
        split = split_indices(corpus, seed)
        per_split = {s: [0] * len(corpus.labels) for s in split}
        for s, idx in split.items():
            for i in idx:
                per_split[s][corpus.targets[i]] += 1
        multi = corpus.multi_label_names()
        pos = {lab: i for i, lab in enumerate(corpus.labels)}
        rows = []
        for c in corpus.counts:
            i = pos.get(c.label)
            sizes = {s: (per_split[s][i] if i is not None else 0) for s in split}
            rows.append(
                {
                    "label": c.label,
                    "read": c.read,
                    "dropped": c.dropped,
                    "duplicates": c.duplicates,
                    "kept": c.kept,
                    **sizes,
                }
            )
        if as_json:
            print(
                json.dumps(
                    {
                        "languages": rows,
                        "multi_label_names": len(multi),
                        "dropped": [d.__dict__ for d in corpus.dropped],
                        "fingerprint": corpus.fingerprint,
                    }
                )
            )
            return
        table = Table(title=f"{data_dir}  (fingerprint {corpus.fingerprint})")
        for col in ("language", "read", "dropped", "duplicates", "kept", "train", "valid", "test"):
            table.add_column(col, justify="left" if col == "language" else "right")
        for r in rows:
            table.add_row(
                *(
                    str(r[k])
                    for k in ("label", "read", "dropped", "duplicates", "kept", "train", "valid", "test")
                )
            )
        tot = {
            k: sum(r[k] for r in rows)
            for k in ("read", "dropped", "duplicates", "kept", "train", "valid", "test")
        }
        table.add_row("[bold]total[/bold]", *(f"[bold]{v}[/bold]" for v in tot.values()), end_section=True)
        out.print(table)
        reasons: dict[str, int] = {}
        for d in corpus.dropped:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
        out.print("dropped: " + (", ".join(f"{n} × {r}" for r, n in reasons.items()) or "nothing"))
        examples = ", ".join(f"{n} ({'/'.join(ls)})" for n, ls in list(multi.items())[:5])
        out.print(f"names under several languages: {len(multi)}" + (f", e.g. {examples}" if multi else ""))
        out.print(f"each normalised name sits in exactly one split (seed {seed})")


@app.command()
def info(
    model: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(
            help="Model file. Default: $NAMECLS_MODEL, else out/namecls.pt if present, else the shipped one."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a model's config, labels, data fingerprint, metrics and training history.

    Example: namecls info out/namecls.pt
    """
    from namecls.checkpoint import load_checkpoint
    from namecls.predict import resolve_model

    with _errors():
        path, _ = resolve_model(model)
        ck = load_checkpoint(path)
        summary = {
            k: ck.get(k)
            for k in (
                "namecls_version",
                "format_version",
                "config",
                "train_config",
                "split",
                "labels",
                "data_fingerprint",
                "temperature",
                "metrics",
                "history",
            )
        }
        summary["vocab"] = "".join(c for c in ck["vocab"] if len(c) == 1)
        summary["parameters"] = sum(t.numel() for t in ck["state_dict"].values())
        if as_json:
            print(json.dumps({"path": str(path), **summary}))
            return
        table = Table(title=str(path), show_header=False)
        for key in ("namecls_version", "parameters", "data_fingerprint", "temperature", "vocab"):
            table.add_row(key, str(summary[key]))
        for group in ("config", "train_config", "split"):
            for k, v in (summary[group] or {}).items():
                table.add_row(f"{group}.{k}", str(v))
        table.add_row("labels", ", ".join(summary["labels"]))
        for k, v in (summary["metrics"] or {}).get("valid", {}).items():
            table.add_row(f"valid {k}", f"{v:.4f}" if isinstance(v, float) else str(v))
        out.print(table)
        hist = Table(title="training history")
        for col in ("epoch", "train loss", "valid accuracy", "valid macro-F1", "seconds", "best"):
            hist.add_column(col, justify="right")
        for h in summary["history"] or []:
            hist.add_row(
                str(h["epoch"]),
                f"{h['train_loss']:.4f}",
                f"{h['valid_accuracy']:.4f}",
                f"{h['valid_macro_f1']:.4f}",
                f"{h['seconds']:.1f}",
                "*" if h["best"] else "",
            )
        out.print(hist)


def main() -> None:
    """Entry point for the `namecls` script and `python -m namecls`."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # a bug, not a user error: still one line, unless asked for the traceback
        if os.environ.get("NAMECLS_DEBUG"):
            raise
        print(
            f"Error: unexpected {type(e).__name__}: {e} (NAMECLS_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
