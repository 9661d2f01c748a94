#!/usr/bin/env bash
# namecls on an NVIDIA GPU against the CPU of the same machine, in one run (under 8 minutes on an H100).
#
#   scripts/cuda_check.sh                      # from anywhere; it works in the repository root
#   scripts/cuda_check.sh --quick              # one epoch, 5,000 names: a smoke test
#   DEVICES=cpu PYTHON=.venv/bin/python scripts/cuda_check.sh --quick   # the CPU half, no GPU needed
#
# For each device it trains with default settings (`namecls train --device D`; an entry D+amp
# adds `--precision amp`, mixed precision), reads the epoch
# times from the checkpoint (`namecls info --json`), scores the test split (`namecls evaluate
# --json`) and times `namecls predict -` on PREDICT_N names; then runs the tests marked cuda, and
# prints one markdown table: device, card, epoch time, train total, test accuracy, macro-F1,
# predict names/s. Every log, model and the table (cuda_check.md) go to $OUT.
#
# Settings (environment):
#   OUT=/tmp/cuda_out     where everything is written
#   DATA_DIR=data/names   the names; data/names is git-ignored, so copy it into the tree first
#   DEVICES="cuda cuda+amp cpu"  devices, in order (D+amp: mixed precision); no cuda, no GPU needed
#   PYTHON=python3        the interpreter that has torch
#   EPOCHS=               at most this many epochs (default: namecls's; --quick: 1)
#   PREDICT_N=100000      names for the predict timing (--quick: 5000)
#   BUDGET_S=450          no step starts after this many seconds; each is cut to what is left
#   TRAIN_MAX_S=150       a train run is stopped (SIGTERM) after this long; its best epoch is scored
# Exit: 0 all steps passed; 1 no CUDA, no torch, no data, or a step failed; 2 bad arguments.

set -uo pipefail

usage() { sed -n '2,/^# Exit/s/^# \{0,1\}//p' "$0"; }

quick=0
for arg in "$@"; do
    case $arg in
        --quick) quick=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "Error: unknown argument $arg (try --help)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
# paths given relative to where the script was called from; then work in the repository root
abspath() { if [[ $1 == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
PY=${PYTHON:-python3}
[[ $PY == */* ]] && PY=$(abspath "$PY") # a venv's python must keep its own path, not its link's
OUT=$(abspath "${OUT:-/tmp/cuda_out}")
DATA_DIR=$(abspath "${DATA_DIR:-$ROOT/data/names}")
cd "$ROOT" || exit 1
DEVICES=${DEVICES:-cuda cuda+amp cpu}
BUDGET_S=${BUDGET_S:-450}
TRAIN_MAX_S=${TRAIN_MAX_S:-150}
if ((quick)); then
    EPOCHS=${EPOCHS:-1}
    PREDICT_N=${PREDICT_N:-5000}
else
    EPOCHS=${EPOCHS:-}
    PREDICT_N=${PREDICT_N:-100000}
fi
mkdir -p "$OUT" || exit 1
START=$(date +%s)
FAILED=0
NAMECLS=("$PY" -m namecls) # from the repository root this is the tree's namecls, installed or not
: >"$OUT/steps.tsv"

die() { echo "Error: $*" >&2; exit 1; }

elapsed() { echo $(($(date +%s) - START)); }

# step NAME STDOUT_FILE CMD...: run CMD (stdin: $STDIN or nothing) for at most $STEP_MAX seconds and
# what is left of the budget; stderr goes to $OUT/NAME.err; "NAME<TAB>seconds<TAB>exit" to steps.tsv.
step() {
    local name=$1 stdout=$2 left t0 t1 rc secs
    shift 2
    left=$((BUDGET_S - $(elapsed)))
    ((${STEP_MAX:-left} < left)) && left=$STEP_MAX
    if ((left < 10)); then
        echo "== $name: skipped, the ${BUDGET_S}s budget is spent"
        printf '%s\t\t%s\n' "$name" skipped >>"$OUT/steps.tsv"
        FAILED=1
        return 1
    fi
    echo "== $name: $*"
    t0=$(date +%s.%N)
    timeout "$left" "$@" <"${STDIN:-/dev/null}" >"$stdout" 2>"$OUT/$name.err"
    rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    printf '%s\t%s\t%s\n' "$name" "$secs" "$rc" >>"$OUT/steps.tsv"
    if ((rc != 0)); then
        FAILED=1
        if ((rc == 124)); then
            echo "   stopped after ${secs}s (time limit)"
        else
            echo "   failed after ${secs}s (exit $rc); the end of $OUT/$name.err:"
        fi
        tail -n 5 "$OUT/$name.err" | sed 's/^/   | /'
        return 1
    fi
    echo "   ${secs}s"
}

# --- the machine ---------------------------------------------------------------------------------

echo "namecls cuda check: devices '$DEVICES', epochs ${EPOCHS:-default}, $PREDICT_N names, out $OUT"
command -v "$PY" >/dev/null || die "no $PY here (set PYTHON)"
if [[ " $DEVICES" == *" cuda"* ]]; then
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
    else
        echo "note: no nvidia-smi on PATH"
    fi
    "$PY" -c "import torch; assert torch.cuda.is_available()" 2>"$OUT/cuda.err" ||
        die "CUDA is not available to $PY's torch ($(tail -n 1 "$OUT/cuda.err")); nothing to check"
    "$PY" -c "import torch; print(torch.cuda.get_device_name(0))" >"$OUT/gpu_name.txt"
else
    "$PY" -c "import torch" 2>"$OUT/torch.err" || die "$PY cannot import torch ($(tail -n 1 "$OUT/torch.err"))"
fi
"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'threads', torch.get_num_threads())" |
    tee "$OUT/torch.txt"

# --- the package -----------------------------------------------------------------------------------

missing=$("$PY" -c 'import importlib.util as u
print(" ".join(m for m in ("typer", "rich", "unidecode", "numpy") if u.find_spec(m) is None))')
if [[ -n $missing ]]; then
    echo "installing $missing"
    # shellcheck disable=SC2086 # one word per package
    timeout 90 "$PY" -m pip install -q --retries 1 --timeout 20 $missing >"$OUT/install-deps.log" 2>&1 ||
        die "could not install $missing (see $OUT/install-deps.log)"
fi
installed=$(cd / && "$PY" -c 'import namecls, os; print(os.path.dirname(namecls.__file__))' 2>/dev/null)
if [[ $installed == "$ROOT/namecls" ]]; then
    echo "namecls is already installed from this tree"
elif timeout 120 "$PY" -m pip install -q --no-deps --no-build-isolation -e . >"$OUT/install.log" 2>&1; then
    echo "installed namecls from this tree (pip install -e . --no-deps)"
else
    echo "note: pip install -e . failed (see $OUT/install.log); running python -m namecls from the tree"
fi
"${NAMECLS[@]}" --version || die "namecls does not run (python -m namecls --version failed)"

# --- the data --------------------------------------------------------------------------------------

has_names() { compgen -G "$1/*.txt" >/dev/null; }
if ! has_names "$DATA_DIR"; then
    echo "no names in $DATA_DIR: trying scripts/fetch_data.py"
    timeout 90 "$PY" scripts/fetch_data.py --dest "$DATA_DIR" >"$OUT/fetch_data.log" 2>&1
fi
has_names "$DATA_DIR" ||
    die "no <Language>.txt in $DATA_DIR: copy data/names into the tree before the run (it is git-ignored), or set DATA_DIR"
echo "data: $(cat "$DATA_DIR"/*.txt | wc -l) lines in $(compgen -G "$DATA_DIR/*.txt" | wc -l) files in $DATA_DIR"

# PREDICT_N names drawn with replacement from the data files' lines, seeded
"$PY" - "$DATA_DIR" "$PREDICT_N" >"$OUT/names.txt" <<'EOF' || die "could not sample names"
import random, sys
from pathlib import Path

lines = [
    line
    for p in sorted(Path(sys.argv[1]).glob("*.txt"))
    for line in p.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()
    if line.strip()
]
sys.stdout.write("\n".join(random.Random(0).choices(lines, k=int(sys.argv[2]))) + "\n")
EOF

# --- train, evaluate, predict on each device -------------------------------------------------------

train_args=(--data-dir "$DATA_DIR")
[[ -n $EPOCHS ]] && train_args+=(--epochs "$EPOCHS")

check_device() {
    local dev=$1 model="$OUT/model-$1.pt" on=${1%+amp} extra=()
    [[ $dev == *+amp ]] && extra=(--precision amp)
    # a train cut by the budget (SIGTERM) still leaves its best epoch on disk: score that
    STEP_MAX=$TRAIN_MAX_S step "train-$dev" "$OUT/train-$dev.out" \
        "${NAMECLS[@]}" train "${train_args[@]}" "${extra[@]}" --out "$model" --device "$on" ||
        [[ -f $model ]] || return 1
    step "info-$dev" "$OUT/info-$dev.json" "${NAMECLS[@]}" info "$model" --json
    step "evaluate-$dev" "$OUT/evaluate-$dev.json" \
        "${NAMECLS[@]}" evaluate --model "$model" --data-dir "$DATA_DIR" --split test --json --device "$on"
    STDIN="$OUT/names.txt" step "predict-$dev" "$OUT/predict-$dev.tsv" \
        "${NAMECLS[@]}" predict - --model "$model" --device "$on"
}

cuda_tests() {
    local files
    mapfile -t files < <(grep -l 'mark\.cuda' tests/*.py 2>/dev/null)
    if ((${#files[@]} == 0)); then
        echo "== pytest -m cuda: no test in tests/ is marked cuda"
        printf 'pytest-cuda\t\tnone\n' >>"$OUT/steps.tsv"
        return 0
    fi
    "$PY" -c "import pytest" 2>/dev/null ||
        timeout 90 "$PY" -m pip install -q --retries 1 --timeout 20 pytest >"$OUT/install-pytest.log" 2>&1
    step pytest-cuda "$OUT/pytest-cuda.log" "$PY" -m pytest -m cuda -q -p no:cacheprovider "${files[@]}"
}

for dev in $DEVICES; do
    check_device "$dev"
    [[ $dev == cuda* && $dev != *+amp ]] && cuda_tests
done

# --- the table -------------------------------------------------------------------------------------

"$PY" - "$OUT" "$PREDICT_N" "$DEVICES" "$BUDGET_S" "$(elapsed)" >"$OUT/cuda_check.md" <<'EOF'
import json, os, platform, statistics, sys
from pathlib import Path

out, n, devices, budget, elapsed = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(), *sys.argv[4:]
steps = {}
for line in (out / "steps.tsv").read_text().splitlines():
    name, secs, rc = line.split("\t")
    steps[name] = (float(secs) if secs else None, rc)


def ok(name):
    return steps.get(name, (None, "missing"))[1] == "0"


def read_json(name):
    try:
        return json.loads((out / name).read_text())
    except (OSError, ValueError):
        return None


def cpu_name():
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def card(dev):
    if dev.startswith("cuda"):
        for f in ("gpu_name.txt", "gpu.txt"):
            if (out / f).is_file() and (out / f).read_text().strip():
                return (out / f).read_text().splitlines()[0].split(",")[0].strip()
        return "?"
    return f"{cpu_name()} ({os.cpu_count()} CPUs)"


def cell(x, spec):
    return "—" if x is None else format(x, spec)


head = ["device", "card", "epoch time s", "train total s", "test accuracy", "macro-F1", "predict names/s"]
rows, notes = [], []
for dev in devices:
    info = read_json(f"info-{dev}.json") if ok(f"info-{dev}") else None
    hist = (info or {}).get("history") or []
    ev = read_json(f"evaluate-{dev}.json") if ok(f"evaluate-{dev}") else None
    rate = None
    if ok(f"predict-{dev}"):
        got = sum(1 for _ in (out / f"predict-{dev}.tsv").open(encoding="utf-8"))
        rate = n / steps[f"predict-{dev}"][0] if got == n else None
        if got != n:
            notes.append(f"{dev}: predict answered {got} of {n} names")
    train_s, train_rc = steps.get(f"train-{dev}", (None, "missing"))
    cut = train_rc == "124"  # stopped at TRAIN_MAX_S or the budget; its best epoch was kept
    if not (ok(f"train-{dev}") or cut):
        train_s = None
    epoch_s = statistics.median(h["seconds"] for h in hist) if hist else None
    rows.append([
        dev, card(dev), cell(epoch_s, ".2f"), cell(train_s, ".1f") + (" (cut)" if cut and train_s else ""),
        cell(ev and ev["accuracy"], ".4f"), cell(ev and ev["macro_f1"], ".4f"), cell(rate, ",.0f"),
    ])
    if hist:
        notes.append(
            f"{dev}: {len(hist)} epoch(s) of at most {info['train_config']['epochs']}; first epoch "
            f"{hist[0]['seconds']:.2f} s, median {epoch_s:.2f} s (an epoch includes its validation pass)"
        )
    if cut:
        notes.append(f"{dev}: training was stopped at the time limit; the table scores its best epoch so far")
    bad = [k for k, (_, rc) in steps.items() if k.endswith(f"-{dev}") and rc != "0"]
    if bad:
        notes.append(f"{dev}: failed or skipped: {', '.join(bad)} (see the .err files)")

w = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]


def line(r):
    return "| " + " | ".join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(r)) + " |"


print(line(head))
print("|" + "|".join("-" * (w[i] + 2) if i < 2 else "-" * (w[i] + 1) + ":" for i in range(len(w))) + "|")
for r in rows:
    print(line(r))
print()
pytest = steps.get("pytest-cuda")
if pytest:
    verdict = {"0": "passed", "5": "none collected", "none": "no test is marked cuda"}.get(pytest[1])
    tail = (out / "pytest-cuda.log").read_text().strip().splitlines()[-1:] if (out / "pytest-cuda.log").is_file() else []
    notes.append(f"pytest -m cuda: {verdict or 'FAILED (exit ' + pytest[1] + ')'}{': ' + tail[0] if tail else ''}")
notes += [
    "train total: wall seconds of the whole `python -m namecls train` process (start-up, data, every epoch, "
    "calibration); predict names/s: names / wall seconds of the whole `predict -` process (start-up and, "
    f"on cuda, CUDA initialisation included), {n:,} names drawn with replacement from the data files.",
    (out / "torch.txt").read_text().strip() + f"; {elapsed} s of the {budget} s budget used.",
]
print("\n".join(f"- {x}" for x in notes))
EOF
echo
cat "$OUT/cuda_check.md"
echo "(also in $OUT/cuda_check.md; logs, models and outputs in $OUT)"
exit "$FAILED"
