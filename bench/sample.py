#!/usr/bin/python3
"""Memory and CPU time of the processes `make bench` measures, as JSON.

  sample.py machine NAME=PID[+] ...

For each NAME: VmRSS and VmHWM (kB, /proc/PID/status) and the CPU time used
so far (user + system, seconds, /proc/PID/stat, all threads). PID+ also adds
the CPU time of PID's direct children (the PostgreSQL backends, nginx's
workers); memory stays the process's own. A PID that is 0 or gone is null.
`machine` is the busy CPU time of the whole machine (/proc/stat: all but idle
and iowait), which includes wrk and whatever else runs on it meanwhile.
scripts/bench.sh takes one sample before, half way through and after each
run: the CPU difference over the run shows which process used the cores."""
import json
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK  # ppid, utime+stime


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if stat(int(d))[0] == pid:
                    out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def sample(pid, with_children):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    cpu = stat(pid)[1]
    if with_children:
        for c in children(pid):
            try:
                cpu += stat(c)[1]
            except (OSError, ValueError, IndexError):
                pass
    return {"pid": pid, "vmrss_kb": int(fields["VmRSS"].split()[0]),
            "vmhwm_kb": int(fields["VmHWM"].split()[0]), "cpu_s": round(cpu, 2)}


def machine():
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return {"cpu_s": round((sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK, 2)}


def main():
    out = {"monotonic_s": time.monotonic()}
    for arg in sys.argv[1:]:
        if arg == "machine":
            out["machine"] = machine()
            continue
        name, pid = arg.split("=", 1)
        with_children = pid.endswith("+")
        try:
            out[name] = sample(int(pid.rstrip("+")), with_children) if int(pid.rstrip("+")) else None
        except (OSError, KeyError, ValueError):
            out[name] = None
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
