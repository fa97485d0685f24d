"""Time `heartbert quickstart` (its masked-LM training loop) and `heartbert embed` at several torch
thread counts, on an otherwise unchanged machine and with one competing busy process, in the same run.

    python benchmarks/threads.py                      # 60 quick-start steps, 1 repeat
    python benchmarks/threads.py --repeats 2 --out benchmarks/results/threads.jsonl

Settings: 1 and 2 threads, torch's own default (what every command used before `--torch_threads`,
i.e. as many threads as cores) and `auto` (`--torch_threads 0`, the rule in heartbert_hf/runtime.py).
The busy process is `python -c "while True: pass"`, started before and killed after its block.
OMP_NUM_THREADS / MKL_NUM_THREADS are removed from the children's environment, so torch's default
is the real default. Each child prints its own timing: the quick start "N steps in X s" (training
loop only) and embed "(X s)" (model load + embedding of sample record 118, 2 leads, 10 min).
Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "heartbert_hf" / "sample_data" / "118"


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def heartbert(args: list[str], cwd: Path) -> tuple[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "heartbert_hf.cli", *args], cwd=cwd, env=child_env(), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"heartbert {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout, wall


def torch_default_threads() -> int:
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"], env=child_env(), capture_output=True, text=True)
    return int(out.stdout.strip())


def machine() -> dict:
    model = platform.processor()
    if Path("/proc/cpuinfo").is_file():
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), model)
    import torch

    return {
        "cpu": model,
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "host": platform.node(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="quick-start MLM steps (its default: 60)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to wait after starting the busy process")
    parser.add_argument("--out", default=None, help="JSONL file for the raw rows")
    args = parser.parse_args()

    default = torch_default_threads()
    settings = [("torch default", default), ("1", 1), ("2", 2), ("auto", 0)]
    info = machine()
    print(f"# {info}; torch default threads: {default}; load average at start: {os.getloadavg()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="heartbert_threads_"))
    rows = []
    try:
        heartbert(["quickstart", "--output_dir", str(work / "model"), "--steps", "2", "--torch_threads", "1"], work)
        for repeat in range(args.repeats):
            for busy in (False, True):
                hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
                try:
                    if hog is not None:
                        time.sleep(args.settle)
                    for label, n in settings:
                        load = os.getloadavg()[0]
                        out, wall = heartbert(["quickstart", "--output_dir", str(work / "qs"), "--steps", str(args.steps), "--torch_threads", str(n)], work)
                        train = float(re.search(r"steps in ([\d.]+) s", out).group(1))
                        used = int(re.search(r"(\d+) torch thread", out).group(1))
                        emb_out, emb_wall = heartbert(
                            ["embed", "--model", str(work / "model"), "--input", str(SAMPLE), "--output", str(work / "e.parquet"), "--torch_threads", str(n)],
                            work,
                        )
                        embed_s = float(re.search(r"\(([\d.]+) s\)", emb_out).group(1))
                        row = {
                            "repeat": repeat,
                            "busy_process": busy,
                            "setting": label,
                            "threads": used,
                            "load_avg_1min": round(load, 2),
                            "quickstart_train_s": train,
                            "quickstart_wall_s": round(wall, 1),
                            "embed_s": embed_s,
                            "embed_wall_s": round(emb_wall, 1),
                        }
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                finally:
                    if hog is not None:
                        hog.kill()
                        hog.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a") as handle:
            for row in rows:
                handle.write(json.dumps({**row, **info}) + "\n")
    print("\n| busy process | setting | threads | quick-start training (s) | quick-start wall (s) | embed 118 (s) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {'yes' if row['busy_process'] else 'no'} | {row['setting']} | {row['threads']} | {row['quickstart_train_s']:.1f} | "
            f"{row['quickstart_wall_s']:.1f} | {row['embed_s']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
