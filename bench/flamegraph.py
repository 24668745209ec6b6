#!/usr/bin/python3
"""Flame graphs and inclusive times from `perf script` output, standard
library only (Debian packages no flame graph tool). `make profile`
(scripts/profile.sh) uses it; it is tooling, not part of the service.

  flamegraph.py fold [--pid PID ...] [--root NAME] < perf-script.txt > stacks.folded
      one line per distinct stack: "root;outermost;...;innermost COUNT"
      (root: NAME, else the thread's command name), only the samples of the
      given processes when --pid is given
      (Brendan Gregg's folded format), samples weighted by their period, in
      microseconds of CPU (cpu-clock: nanoseconds / 1000).
  flamegraph.py svg --title TEXT < stacks.folded > graph.svg
      an interactive-free SVG flame graph: width is CPU time, hover a frame
      for its name, time and share (<title>). Frames narrower than
      --min-width (0.1 %) of the whole are left out to keep the file small.
  flamegraph.py top [--limit N] < stacks.folded
      the functions with the most inclusive time (a function counted once
      per stack, however deep its recursion) and self time, as JSON.
  flamegraph.py phases PHASES.json < stacks.folded
      CPU time per phase: PHASES.json is a list of [phase, [function, ...]];
      a sample belongs to the first phase (in list order) one of whose
      functions is on its stack, else to "other". As JSON.
"""
import argparse
import collections
import html
import json
import re
import sys
import zlib

HEADER = re.compile(r"^(?P<comm>\S.*?)\s+(?P<pid>\d+)(?:/(?P<tid>\d+))?\s+"
                    r"(?:\[\d+\]\s+)?(?P<time>\d+\.\d+):\s+(?P<period>\d+)?\s*(?P<event>\S+):")


def frame_name(line):
    """The symbol of a stack line "\\taddr sym+0xoff (dso)", or [dso]."""
    parts = line.strip().split(None, 1)
    if len(parts) < 2:
        return None
    rest = parts[1]
    dso = ""
    if rest.endswith(")") and " (" in rest:
        rest, dso = rest.rsplit(" (", 1)
        dso = dso[:-1]
    sym = rest.strip()
    if sym == "[unknown]" or not sym:
        base = dso.rsplit("/", 1)[-1] if dso else "unknown"
        return "[%s]" % base
    sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
    return sym.replace(";", ":")


def fold(inp, pids, root):
    counts = collections.Counter()
    comm, period, stack = None, 1, []

    def flush():
        if comm is not None:
            frames = [root or comm] + list(reversed(stack))
            counts[";".join(frames)] += period
    for line in inp:
        line = line.rstrip("\n")
        if not line:
            flush()
            comm, stack = None, []
            continue
        if not line[0].isspace():
            flush()
            stack = []
            m = HEADER.match(line)
            if m is None:
                comm = None
                continue
            comm = m.group("comm").strip()
            if pids and int(m.group("pid")) not in pids:
                comm = None
                continue
            # cpu-clock's period is in nanoseconds; the folded count is microseconds
            period = max(1, int(m.group("period") or 1000) // 1000)
            continue
        if comm is not None:
            name = frame_name(line)
            if name is not None:
                stack.append(name)
    flush()
    return counts


def read_folded(inp):
    out = []
    for line in inp:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, n = line.rpartition(" ")
        out.append((stack.split(";"), int(n)))
    return out


def color(name):
    """A warm colour per name, stable between runs (zlib.crc32, not hash())."""
    h = zlib.crc32(name.encode())
    r = 205 + h % 50
    g = 80 + (h >> 8) % 130
    b = (h >> 16) % 55
    return "rgb(%d,%d,%d)" % (r, g, b)


def svg(stacks, title, min_width, width=1200, row=16):
    root = {"n": 0, "kids": {}}
    depth = 0
    for frames, n in stacks:
        node = root
        node["n"] += n
        for f in frames:
            node = node["kids"].setdefault(f, {"n": 0, "kids": {}})
            node["n"] += n
        depth = max(depth, len(frames))
    total = root["n"] or 1
    rects = []
    shown_depth = 0

    def walk(node, name, x, level):
        nonlocal shown_depth
        w = node["n"] / total
        if w < min_width:
            return
        if name is not None:
            rects.append((name, x, level, w, node["n"]))
            shown_depth = max(shown_depth, level + 1)
        cx = x
        for kname in sorted(node["kids"]):
            kid = node["kids"][kname]
            walk(kid, kname, cx, level + (1 if name is not None else 0))
            cx += kid["n"] / total
    walk(root, None, 0.0, 0)
    pad_top, pad_bottom, margin = 40, 20, 10
    height = pad_top + shown_depth * row + pad_bottom
    plot = width - 2 * margin
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="monospace" font-size="11">' % (width, height, width,
                                                                            height),
           '<rect width="100%" height="100%" fill="#fdfdf6"/>',
           '<text x="%d" y="20" font-size="15" font-family="sans-serif">%s</text>' % (
               margin, html.escape(title)),
           '<text x="%d" y="34" font-size="11" fill="#555" font-family="sans-serif">'
           'width = CPU time (%.1f ms in all); hover a frame for its name and share; '
           'frames under %.2f %% omitted</text>' % (margin, total / 1000.0, min_width * 100)]
    for name, x, level, w, n in rects:
        px = margin + x * plot
        pw = w * plot
        # a flame graph: the root at the bottom
        py = height - pad_bottom - (level + 1) * row
        label = html.escape(name)
        out.append('<g><title>%s (%.1f ms, %.2f %%)</title><rect x="%.1f" y="%d" width="%.1f" '
                   'height="%d" fill="%s" stroke="#fdfdf6" stroke-width="0.5"/>' % (
                       label, n / 1000.0, 100.0 * w, px, py, pw, row - 1, color(name)))
        chars = int(pw / 6.6)
        if chars >= 3:
            text = name if len(name) <= chars else name[:chars - 2] + ".."
            out.append('<text x="%.1f" y="%d">%s</text>' % (px + 2, py + row - 4,
                                                             html.escape(text)))
        out.append('</g>')
    out.append('</svg>')
    return "\n".join(out) + "\n"


def top(stacks, limit):
    incl, self_t = collections.Counter(), collections.Counter()
    total = 0
    for frames, n in stacks:
        total += n
        for f in set(frames):
            incl[f] += n
        self_t[frames[-1]] += n
    rows = [{"function": f, "inclusive_ms": round(incl[f] / 1000.0, 1),
             "inclusive_pct": round(100.0 * incl[f] / max(total, 1), 2),
             "self_ms": round(self_t[f] / 1000.0, 1),
             "self_pct": round(100.0 * self_t[f] / max(total, 1), 2)}
            for f, _ in incl.most_common(limit)]
    return {"total_ms": round(total / 1000.0, 1), "functions": rows}


def phases(stacks, spec):
    sums = collections.OrderedDict((name, 0) for name, _ in spec)
    sums["other"] = 0
    total = 0
    for frames, n in stacks:
        total += n
        on = set(frames)
        for name, funcs in spec:
            if any(f in on for f in funcs):
                sums[name] += n
                break
        else:
            sums["other"] += n
    return {"total_ms": round(total / 1000.0, 1),
            "phases": [{"phase": k, "cpu_ms": round(v / 1000.0, 1),
                        "pct": round(100.0 * v / max(total, 1), 1)} for k, v in sums.items()]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fold")
    f.add_argument("--pid", type=int, nargs="*", default=[])
    f.add_argument("--root", help="the name of the root frame (default: the command name)")
    s = sub.add_parser("svg")
    s.add_argument("--title", default="CPU flame graph")
    s.add_argument("--min-width", type=float, default=0.001)
    t = sub.add_parser("top")
    t.add_argument("--limit", type=int, default=40)
    p = sub.add_parser("phases")
    p.add_argument("spec")
    a = ap.parse_args()
    if a.cmd == "fold":
        for stack, n in sorted(fold(sys.stdin, set(a.pid), a.root).items()):
            print("%s %d" % (stack, n))
    elif a.cmd == "svg":
        sys.stdout.write(svg(read_folded(sys.stdin), a.title, a.min_width))
    elif a.cmd == "top":
        json.dump(top(read_folded(sys.stdin), a.limit), sys.stdout, indent=1)
        print()
    else:
        with open(a.spec) as fh:
            spec = json.load(fh)
        json.dump(phases(read_folded(sys.stdin), spec), sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
