"""Benchmark paper-digest against Hugo and Pelican on the synthetic corpus; print one Markdown table."""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import http.client
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import corpus  # noqa: E402

SUMMARY = re.compile(r"built (\d+) digests, (\d+) papers: (\d+) files \((\d+) written, (\d+) unchanged\) in ([\d.]+) s")
# Outputs of the last run are moved here, not deleted, until the benchmark ends. On an ext4
# without a journal (this machine's disk) the kernel will not reuse an inode freed in the last
# ~35 s and checks each such inode on every file it creates: creating a site right after
# deleting one costs several times more system time than on a fresh clone, for every tool.
TRASH = Path("/tmp/paper-digest-bench/trash")


def discard(path: Path) -> None:
    """Move path into TRASH (deleted when the benchmark ends) if it exists."""
    if path.exists() or path.is_symlink():
        TRASH.mkdir(parents=True, exist_ok=True)
        os.rename(path, TRASH / f"{time.monotonic_ns()}-{path.name}")


def empty_trash(wait: bool) -> None:
    """Delete TRASH; with wait, give the kernel time to make its inodes reusable before builds start."""
    if TRASH.exists():
        shutil.rmtree(TRASH, ignore_errors=True)
        if wait:
            time.sleep(40)
EDIT_DAY_FRACTION = 0.5  # the edited digest: the one in the middle of the archive


# --- measuring one process ------------------------------------------------------------------

def tree_rss_kb(pid: int) -> int:
    """Return the summed proportional set size (KB) of pid and all its descendants, 0 if gone.

    PSS splits pages shared between processes (forked build workers share most of their
    parent's memory) among them, so the sum is the memory the tree really holds.
    """
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Run:
    """One measured process: wall seconds, peak memory (MB), exit status and output."""

    seconds: float
    peak_mb: float
    status: int
    output: str
    cpu: float = 0.0  # user + system seconds, of the process and every child it waited for (build workers)


def measure(argv: list[str], cwd: Path, env: dict | None = None, sample: bool = False) -> Run:
    """Run argv, timing it from the outside; peak memory is the largest process's RSS, and with sample
    the process tree's PSS sampled every 10 ms (reading it costs CPU, so timed runs do not sample)."""
    log = cwd / ".bench-output.txt"
    with open(log, "w+b") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        sampled = [0]
        done = threading.Event()
        sampler = threading.Thread(target=_sample, args=(proc.pid, sampled, done), daemon=True)
        if sample:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sample:
            sampler.join()
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    log.unlink()
    return Run(seconds, max(usage.ru_maxrss, sampled[0]) / 1024, proc.returncode, output,
               usage.ru_utime + usage.ru_stime)


def _sample(pid: int, peak: list[int], done: threading.Event) -> None:
    """Record the peak process-tree PSS of pid every 10 ms until done."""
    while not done.wait(0.01):
        peak[0] = max(peak[0], tree_rss_kb(pid))


# --- output trees ---------------------------------------------------------------------------

def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Return {relative path: (inode, mtime_ns, sha1)} of every file under root."""
    files = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            files[path.relative_to(root).as_posix()] = (stat.st_ino, stat.st_mtime_ns,
                                                        hashlib.sha1(path.read_bytes()).hexdigest())
    return files


def rewrites(before: dict, after: dict) -> tuple[int, int, int]:
    """Return (files rewritten, files whose bytes changed, rewritten without a byte change)."""
    rewritten = {rel for rel, (ino, mtime, _) in after.items() if before.get(rel, (None, None))[:2] != (ino, mtime)}
    changed = {rel for rel, (_, _, digest) in after.items() if rel not in before or before[rel][2] != digest}
    return len(rewritten), len(changed), len(rewritten - changed)


# --- the tools ------------------------------------------------------------------------------

def source_date(rel: Path) -> str:
    """Return the ISO date of a corpus file from its path (flat or nested)."""
    parts = rel.with_suffix("").parts
    return parts[0] if len(parts) == 1 else "-".join(parts)


def strip_front_matter(text: str) -> str:
    """Return text without a leading YAML front matter block."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[end + 5:]
    return text


def converted(content: Path, header: str) -> dict[str, str]:
    """Return {date: text} of every corpus digest with a metadata header (format: title, date) added."""
    out = {}
    for path in sorted(content.rglob("*.md")):
        date = source_date(path.relative_to(content))
        out[date] = header.format(title=f"Daily Papers ({date})", date=date) + strip_front_matter(path.read_text("utf-8"))
    return out


class Tool:
    """A generator under test: how to lay out its site, clean it, build it and which file to edit."""

    name = ""

    def __init__(self, site: Path):
        self.site = site

    def available(self) -> str | None:
        """Return why the tool cannot run here, or None."""
        return None

    def prepare(self, corpus_dir: Path, days: int) -> None:
        """Lay out the tool's site for the corpus in corpus_dir."""

    def clean(self) -> None:
        """Move every output and cache aside so the next build is cold (see TRASH)."""
        for name in self.caches:
            discard(self.site / name)

    def command(self) -> list[str]:
        raise NotImplementedError

    caches: tuple[str, ...] = ()
    output = ""
    edit_file: Path


class Digest(Tool):
    """paper-digest, run as `python -m generator build --config site.toml`."""

    name = "paper-digest"
    output = "_site"
    caches = ("_site", ".digest-cache")

    def __init__(self, site: Path, python: str, config: str = "site.toml"):
        super().__init__(site)
        self.python, self.config = python, config

    def available(self) -> str | None:
        probe = subprocess.run([self.python, "-c", "import generator.build"], capture_output=True)
        if probe.returncode != 0:
            return f"cannot import generator with {self.python}"
        # byte-compiled as a package install leaves it: with PYTHONDONTWRITEBYTECODE set (as on
        # many CI images) an editable install would compile its modules again on every run (25 ms)
        subprocess.run([self.python, "-c", "import compileall, generator, os; "
                        "compileall.compile_dir(os.path.dirname(generator.__file__), quiet=1)"], check=True)
        return None

    def prepare(self, corpus_dir: Path, days: int) -> None:
        self.edit_file = self.day_file(int(days * EDIT_DAY_FRACTION))

    def day_file(self, day: int) -> Path:
        """Return the source of the corpus's day number day (0 is the oldest)."""
        return self.site / "content" / corpus.digest_path(day, corpus.day_style(day)["nested"])

    def command(self, *extra: str) -> list[str]:
        return [self.python, "-m", "generator", "build", "--config", str(self.site / self.config), *extra]


class Hugo(Tool):
    """Hugo (goldmark, unsafe=false) on a converted copy of the corpus with `date:` front matter."""

    name = "hugo"
    output = "public"
    caches = ("public", "resources", ".hugo-cache", ".hugo_build.lock")

    def available(self) -> str | None:
        return None if shutil.which("hugo") else "hugo not on PATH"

    def prepare(self, corpus_dir: Path, days: int) -> None:
        discard(self.site)
        shutil.copytree(BENCH / "hugo", self.site)
        texts = converted(corpus_dir / "content", '---\ntitle: "{title}"\ndate: {date}\n---\n')
        write_texts(self.site / "content" / "posts", texts)
        self.edit_file = self.site / "content" / "posts" / f"{edit_date(days)}.md"

    def command(self) -> list[str]:
        return ["hugo", "--source", str(self.site), "--destination", str(self.site / "public"),
                "--cacheDir", str(self.site / ".hugo-cache"), "--quiet"]


class Pelican(Tool):
    """Pelican (content cache on) on a converted copy of the corpus with Title:/Date: headers."""

    name = "pelican"
    output = "output"
    caches = ("output", "cache", "__pycache__")

    def executable(self) -> str | None:
        return os.environ.get("PELICAN") or shutil.which("pelican")

    def available(self) -> str | None:
        return None if self.executable() else "pelican not found (set PELICAN=/path/to/pelican or put it on PATH)"

    def prepare(self, corpus_dir: Path, days: int) -> None:
        discard(self.site)
        shutil.copytree(BENCH / "pelican", self.site, ignore=shutil.ignore_patterns("__pycache__"))
        texts = converted(corpus_dir / "content", "Title: {title}\nDate: {date}\n\n")
        write_texts(self.site / "content", texts)
        self.edit_file = self.site / "content" / f"{edit_date(days)}.md"

    def command(self) -> list[str]:
        return [self.executable(), str(self.site / "content"), "-o", str(self.site / "output"),
                "-s", str(self.site / "pelicanconf.py"), "-q"]


def write_texts(folder: Path, texts: dict[str, str]) -> None:
    """Write {date: text} as folder/date.md."""
    folder.mkdir(parents=True, exist_ok=True)
    for date, text in texts.items():
        (folder / f"{date}.md").write_text(text, encoding="utf-8")


def edit_date(days: int) -> str:
    """Return the ISO date of the digest the one-change build edits."""
    return (corpus.START + corpus.dt.timedelta(days=int(days * EDIT_DAY_FRACTION))).isoformat()


def append_bullet(path: Path, tag: str) -> bytes:
    """Append one summary bullet to the digest at path; return its original bytes."""
    original = path.read_bytes()
    path.write_bytes(original + f"- 벤치마크 편집 {tag} 문장을 추가했습니다.\n".encode("utf-8"))
    return original


# --- one tool, one size ---------------------------------------------------------------------

@dataclass
class Result:
    """Every measurement of one tool at one size."""

    cold: list[float] = field(default_factory=list)
    nochange: list[float] = field(default_factory=list)
    onechange: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    rewrites: list[tuple[int, int, int]] = field(default_factory=list)
    self_reported: list[str] = field(default_factory=list)
    serve_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)  # seconds to write the output's files with no rendering
    files: int = 0
    cold_cpu: list[float] = field(default_factory=list)  # user + system seconds of each cold build


def checked(tool: Tool, run: Run, what: str) -> Run:
    """Return run, or raise if the build failed."""
    if run.status != 0:
        raise RuntimeError(f"{tool.name} {what} build failed ({run.status}):\n{run.output[-2000:]}")
    return run


def bench_round(tool: Tool, index: int, result: Result) -> None:
    """Measure one cold, one no-change and one one-change build of tool into result."""
    tool.clean()
    cold = checked(tool, measure(tool.command(), tool.site), "cold")
    again = checked(tool, measure(tool.command(), tool.site), "no-change")
    before = snapshot(tool.site / tool.output)
    original = append_bullet(tool.edit_file, f"run {index}")
    try:
        one = checked(tool, measure(tool.command(), tool.site), "one-change")
    finally:
        tool.edit_file.write_bytes(original)
    result.rewrites.append(rewrites(before, snapshot(tool.site / tool.output)))
    result.cold.append(cold.seconds)
    result.cold_cpu.append(cold.cpu)
    result.nochange.append(again.seconds)
    result.onechange.append(one.seconds)
    result.self_reported += [line for r in (cold, again, one) for line in SUMMARY.findall(r.output)][:3]


def bench_tools(tools: dict[str, Tool], runs: int, notes: list[str], size: int) -> dict[str, Result]:
    """Measure every tool `runs` times, in rounds of one run of each, then its file floor and memory.

    Rounds, not one tool's runs after another's: this machine's disk is faster or slower for
    minutes at a time, and a tool measured in the same minutes as Hugo gets a fair ratio.
    """
    results = {name: Result() for name in tools}
    for index in range(runs):
        for name, tool in tools.items():
            if name not in results:
                continue
            try:
                bench_round(tool, index, results[name])
            except RuntimeError as exc:
                notes.append(f"N={size}: {name} FAILED: {' / '.join(str(exc).strip().splitlines()[-2:])}")
                del results[name]
    for name, result in results.items():
        tool = tools[name]
        result.files, result.floor = file_floor(tool.site / tool.output, runs)
        tool.clean()  # one more cold build, for memory only
        result.peak_mb.append(checked(tool, measure(tool.command(), tool.site, sample=True), "cold (memory)").peak_mb)
        tool.clean()
    return results


def file_floor(output: Path, runs: int) -> tuple[int, list[float]]:
    """Return the number of files under output and the seconds, per run, this process takes to write
    the same folders and files (same sizes) into a new folder beside it, with no rendering.

    What the file system alone costs a cold build of that site: no tool writes its output faster.
    """
    folders, files = [], []
    for path in output.rglob("*"):
        rel = path.relative_to(output).as_posix()
        if path.is_dir():
            folders.append(rel)
        elif path.is_file():
            files.append((rel, path.stat().st_size))
    folders.sort()
    blob = b"x" * max((size for _, size in files), default=0)
    times = []
    for index in range(runs):
        scratch = output.with_name(f".floor-{index}-{output.name}")
        start = time.perf_counter()
        os.mkdir(scratch)
        for rel in folders:  # sorted: each after its parent
            os.mkdir(scratch / rel)
        for rel, size in files:
            handle = os.open(scratch / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(handle, blob[:size])
            os.close(handle)
        times.append(time.perf_counter() - start)
        discard(scratch)
    return len(files), times


def bench_cold_only(tool: Digest, runs: int, *extra: str) -> list[float]:
    """Return the cold build times of a paper-digest variant."""
    times = []
    for _ in range(runs):
        tool.clean()
        times.append(checked(tool, measure(tool.command(*extra), tool.site), "cold").seconds)
    return times


# --- serve: edit-to-reload latency ----------------------------------------------------------

SSE_JS = re.compile(r"""EventSource\(\s*['"`]([^'"`]+)['"`]""")
ENDPOINT_ATTR = re.compile(r"""data-endpoint=["']([^"']+)["']""")
FETCH_JS = re.compile(r"""fetch\(\s*['"`]([^'"`?]+)""")
ENDPOINT_PY = re.compile(r"""['"](/[\w\-./]*(?:reload|events|sse|poll)[\w\-./]*)['"]""")


def find_reload_endpoint(html: str, serve_source: str) -> tuple[str, str] | None:
    """Return (path, 'sse' or 'longpoll') of the live-reload endpoint, from the served page or serve.py."""
    if match := SSE_JS.search(html):
        return match.group(1), "sse"
    if match := ENDPOINT_ATTR.search(html) or FETCH_JS.search(html):
        return match.group(1), "sse" if "text/event-stream" in serve_source else "longpoll"
    if match := ENDPOINT_PY.search(serve_source):
        return match.group(1), "sse" if "text/event-stream" in serve_source else "longpoll"
    return None


def http_get(port: int, path: str, timeout: float = 30) -> tuple[int, str]:
    """Return (status, body) of GET path on 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def start_server(tool: Digest, timeout: float) -> tuple[subprocess.Popen, int]:
    """Start `digest serve --port 0`; return the process and its port once it serves."""
    proc = subprocess.Popen([tool.python, "-m", "generator", "serve", "--config", str(tool.site / tool.config),
                             "--port", "0"], cwd=tool.site, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, encoding="utf-8", errors="replace")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if match := re.search(r"https?://[\w.\-\[\]]+:(\d+)", line):
            return proc, int(match.group(1))
    stop_server(proc)
    raise RuntimeError("digest serve printed no URL")


def stop_server(proc: subprocess.Popen) -> bool:
    """Stop the server started by start_server (SIGTERM, then kill); return whether it stopped without the kill.

    Not SIGINT: a shell that runs the benchmark in the background (`... &`) starts it with
    SIGINT ignored, its children inherit that, and the server would never hear it. `digest
    serve` stops on SIGTERM as on Ctrl-C.
    """
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False
    return True


def wait_event(port: int, path: str, kind: str, action) -> float:
    """Run action() and return seconds from it to the reload event of the SSE or long-poll endpoint."""
    events: queue.Queue = queue.Queue()
    if kind == "sse":
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers={"Accept": "text/event-stream"})
        response = conn.getresponse()
        target = lambda: [events.put(line) for line in iter(response.readline, b"")
                          if line.startswith((b"data:", b"event:"))]
    else:
        epoch = settled_epoch(port, path)
        target = lambda: events.put(next_epoch(port, path, epoch))
    threading.Thread(target=target, daemon=True).start()
    time.sleep(0.3)  # let a greeting event arrive (SSE) and the poll reach the server
    while not events.empty():
        events.get()
    started = time.perf_counter()
    action()
    try:
        events.get(timeout=60)
    except queue.Empty:
        raise RuntimeError("no reload event within 60 s") from None
    finally:
        seconds = time.perf_counter() - started
        if kind == "sse":
            conn.close()
    return seconds


def poll(port: int, path: str, epoch: int) -> dict:
    """Return the long-poll answer for a page built at epoch (the JSON of generator/serve.py)."""
    status, body = http_get(port, f"{path}?epoch={epoch}", timeout=60)
    if status != 200:
        raise RuntimeError(f"long-poll answered {status}")
    return json.loads(body)


def settled_epoch(port: int, path: str) -> int:
    """Return the current build epoch once no rebuild is running."""
    state = poll(port, path, -1)
    while state.get("building"):
        state = poll(port, path, state["epoch"])
    return state["epoch"]


def next_epoch(port: int, path: str, epoch: int) -> dict:
    """Long-poll until a successful build newer than epoch, as the page script does; return its state."""
    while True:
        state = poll(port, path, epoch)
        if state["epoch"] != epoch and state["ok"]:
            return state


def serve_latency(tool: Digest, edits: int, reload_url: str | None) -> tuple[list[float], str]:
    """Return edit-to-reload latencies of `digest serve` (seconds) and a note."""
    serve_py = REPO / "generator" / "serve.py"
    probe = subprocess.run([tool.python, "-c", "import generator.serve"], capture_output=True)
    if probe.returncode != 0 or not serve_py.is_file():
        return [], "serve: generator/serve.py not importable, skipped"
    tool.clean()
    proc, port = start_server(tool, timeout=600)
    try:
        latencies, note = _timed_edits(tool, edits, port, serve_py, reload_url)
    finally:
        stopped = stop_server(proc)
    # killed, it may leave what it started running (Pagefind), and the next measurements slower
    return latencies, note + ("" if stopped else "; the server did not stop within 10 s of SIGTERM and was killed")


def _timed_edits(tool: Digest, edits: int, port: int, serve_py: Path,
                 reload_url: str | None) -> tuple[list[float], str]:
    """Return the edit-to-reload latencies of the server on port (seconds) and a note."""
    try:
        rel = tool.edit_file.relative_to(tool.site / "content").with_suffix("")
        page = "/" + source_date(rel).replace("-", "/") + "/"
        _, html = http_get(port, page)
        found = (reload_url, "sse") if reload_url else find_reload_endpoint(html, serve_py.read_text("utf-8"))
        if not found:
            return [], "serve: no live-reload endpoint found (pass --reload-url), skipped"
        path, kind = found
        original = tool.edit_file.read_bytes()
        latencies, stale = [], 0
        try:
            for index in range(edits):
                marker = f"serve edit {index}"
                latencies.append(wait_event(port, path, kind, lambda: append_bullet(tool.edit_file, marker)))
                stale += marker not in http_get(port, page)[1]
                tool.edit_file.write_bytes(original)
                time.sleep(1.0)  # let the restore rebuild finish
        finally:
            tool.edit_file.write_bytes(original)
        note = f"serve: {kind} at {path}" + (f"; {stale} reloads served stale content" if stale else "")
        return latencies, note
    except (OSError, RuntimeError, http.client.HTTPException) as exc:
        return [], f"serve: measurement failed ({exc}), skipped"


# --- the table ------------------------------------------------------------------------------

def machine_facts() -> list[str]:
    """Return header lines naming the machine and tool versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    hugo = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split(" ")[0:2] if shutil.which("hugo") else ["-"]
    pel = os.environ.get("PELICAN") or shutil.which("pelican")
    pel_version = subprocess.run([pel, "--version"], capture_output=True, text=True).stdout.strip() if pel else "-"
    load = os.getloadavg()
    return [f"- machine: {os.cpu_count()} cores (nproc), {cpu}, load average {load[0]:.2f} at start",
            f"- python {platform.python_version()}, {' '.join(hugo)}, pelican {pel_version}"]


def med(values: list[float]) -> float | None:
    """Return the median of values, or None if empty."""
    return statistics.median(values) if values else None


def cell(value: float | None, hugo: float | None, unit: str = "s", digits: int = 2) -> str:
    """Return a table cell: the value and its ratio to Hugo's."""
    if value is None:
        return "-"
    text = f"{value:.{digits}f} {unit}"
    return f"{text} ({value / hugo:.2f}x)" if hugo else text


def table_rows(size: int, results: dict[str, Result]) -> list[str]:
    """Return the Markdown rows of one corpus size."""
    hugo = results.get("hugo")
    ref = {k: med(getattr(hugo, k)) if hugo else None for k in ("cold", "nochange", "onechange", "peak_mb")}
    rows = []
    for name, r in results.items():
        rw = r.rewrites[-1] if r.rewrites else None
        rewritten = f"{rw[0]} / {rw[1]}" + (f" ({rw[2]} needless)" if rw[2] else "") if rw else "-"
        serve = f"{med(r.serve_ms) * 1000:.0f} ms" if r.serve_ms else "-"
        rows.append(f"| {size} | {name} | {cell(med(r.cold), ref['cold'])} | {cell(med(r.nochange), ref['nochange'])} "
                    f"| {cell(med(r.onechange), ref['onechange'])} | {cell(med(r.peak_mb), ref['peak_mb'], 'MB', 0)} "
                    f"| {rewritten} | {serve} |")
    return rows


def bench_size(size: int, args: argparse.Namespace, notes: list[str]) -> dict[str, Result]:
    """Generate the corpus of `size` days and measure every requested tool on it."""
    base = args.work / str(size)
    corpus_dir = base / "paper-digest"
    corpus.write_corpus(corpus_dir, size)
    tools = {"hugo": Hugo(base / "hugo"), "pelican": Pelican(base / "pelican"),
             "digest": Digest(corpus_dir, args.python)}
    ready: dict[str, Tool] = {}
    for key in ["hugo"] + [t for t in args.tools if t != "hugo"]:
        if key not in args.tools:
            continue
        tool = tools[key]
        if why := tool.available():
            notes.append(f"N={size}: {tool.name} skipped: {why}")
            continue
        tool.prepare(corpus_dir, size)
        if key == "digest":  # the same site shape as Hugo's and Pelican's (no paper pages, no search), next to Hugo's
            ready["paper-digest plain"] = digest_variant(tool, "plain", "paper_pages = false\n", size)
        ready[tool.name] = tool
    results = bench_tools(ready, args.runs, notes, size)
    if "paper-digest" in results:
        digest_extras(ready["paper-digest"], size, args, results, notes)
    notes += cold_notes(size, results)
    floors = [f"{name} {r.files:,} files {med(r.floor):.2f} s" for name, r in results.items() if r.floor]
    if floors:
        notes.append(f"N={size}: file system floor, the same folders and files written by one process with no "
                     "rendering: " + "; ".join(floors))
    return results


def cold_notes(size: int, results: dict[str, Result]) -> list[str]:
    """Return notes on the cold builds: CPU time, and each tool's time over Hugo's in the same round."""
    cpu = "; ".join(f"{name} {med(r.cold_cpu):.2f} s" for name, r in results.items() if r.cold_cpu)
    notes = [f"N={size}: cold build CPU time (user + system, build workers included): {cpu}"] if cpu else []
    hugo = results.get("hugo")
    for name, r in results.items():
        if hugo is None or r is hugo or not r.cold_cpu or len(r.cold) != len(hugo.cold):  # only tools of the rounds
            continue
        ratios = [ours / theirs for ours, theirs in zip(r.cold, hugo.cold)]
        notes.append(f"N={size}: {name} cold over Hugo's in the same round: median {med(ratios):.2f}x "
                     f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    return notes


def digest_variant(tool: Digest, name: str, extra_toml: str, size: int, search: bool = False) -> Digest:
    """Return paper-digest on the same corpus with its own site.toml, output and cache."""
    variant = Digest(tool.site, tool.python, f"site-{name}.toml")
    variant.name = f"paper-digest {name}"
    variant.output = f"_site_{name}"
    variant.caches = (variant.output, f".digest-cache-{name}")
    text = (tool.site / "site.toml").read_text("utf-8")
    if search:
        text = text.replace("search = false", "search = true")
    (tool.site / variant.config).write_text(
        text + extra_toml + f'output_dir = "{variant.output}"\ncache_dir = ".digest-cache-{name}"\n', encoding="utf-8")
    variant.prepare(tool.site, size)
    return variant


def digest_extras(tool: Digest, size: int, args: argparse.Namespace, results: dict, notes: list[str]) -> None:
    """Measure paper-digest's search index and serve latency."""
    result = results[tool.name]
    notes += [f"N={size}: paper-digest self-reported: " + "; ".join(
        f"{d} digests, {f} files ({w} written, {u} unchanged) in {s} s" for d, _, f, w, u, s in result.self_reported)]
    if not args.no_search:
        search = digest_variant(tool, "search", "", size, search=True)
        try:
            cold = bench_cold_only(search, args.runs)
            results["paper-digest + search"] = Result(cold=cold)
            notes.append(f"N={size}: search index ≈ {med(cold) - med(result.cold):.2f} s "
                         f"(cold with search = true minus cold without)")
        except RuntimeError as exc:
            notes.append(f"N={size}: search = true build failed, skipped: {str(exc).strip().splitlines()[-1]}")
        if not args.no_serve:  # the preview of the default config, Pagefind indexing on the other core meanwhile
            search.edit_file = tool.day_file(size - 1)
            latencies, note = serve_latency(search, args.serve_edits, args.reload_url)
            notes.append(f"N={size}: serve edit→reload of the newest day with search = true: "
                         + (f"{med(latencies) * 1000:.0f} ms" if latencies else note))
        search.clean()
    if not args.no_serve:
        result.serve_ms, note = serve_latency(tool, args.serve_edits, args.reload_url)
        notes.append(f"N={size}: {note}")
        newest = copy.copy(tool)  # the day a publisher edits most: in the site's feeds, whose rendering it adds
        newest.edit_file = tool.day_file(size - 1)
        latencies, note = serve_latency(newest, args.serve_edits, args.reload_url)
        notes.append(f"N={size}: serve edit→reload of the newest day: "
                     + (f"{med(latencies) * 1000:.0f} ms" if latencies else note))


def parse_args() -> argparse.Namespace:
    """Return the command line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,3000", help="comma-separated corpus sizes (days)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (medians are reported)")
    parser.add_argument("--tools", default="digest,hugo,pelican", help="comma-separated: digest,hugo,pelican")
    parser.add_argument("--work", type=Path, default=Path("/tmp/paper-digest-bench"), help="scratch dir")
    parser.add_argument("--python", default=sys.executable, help="interpreter that has paper-digest installed")
    parser.add_argument("--serve-edits", type=int, default=5, help="edits timed for serve latency")
    parser.add_argument("--reload-url", help="live-reload SSE path, if it cannot be found automatically")
    parser.add_argument("--no-serve", action="store_true", help="skip the serve latency measurement")
    parser.add_argument("--no-search", action="store_true", help="skip the search = true build")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.tools = [t.strip() for t in args.tools.split(",")]
    return args


def main() -> None:
    """Run the benchmark and print the table."""
    args = parse_args()
    global TRASH
    TRASH = args.work / "trash"
    empty_trash(wait=True)  # left by an interrupted run
    header = machine_facts()
    notes: list[str] = []
    rows = []
    for size in args.sizes:
        rows += table_rows(size, bench_size(size, args, notes))
    print(f"### Benchmark: medians of {args.runs} run(s), times from outside the process (interpreter start included)\n")
    print("\n".join(header) + "\n")
    print("| N | tool | cold build | no change | one digest changed | peak memory | rewritten / bytes changed "
          "| serve edit→reload |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nRatios are to Hugo at the same N in the same run. Peak memory: one more cold build (timed runs are not sampled), max of the largest process's ru_maxrss and the "
          "sampled PSS sum of the process tree. Rewritten: files whose inode or mtime changed in the one-change "
          "build / files whose bytes changed.")
    for note in notes:
        print(f"- {note}")
    empty_trash(wait=False)


if __name__ == "__main__":
    main()
