#!/usr/bin/env python3
"""The trust split, checked by the compiler (docs/DEVELOPING.md, "Trust split").

For each header the host must never include, a tiny "server source" that
includes it is compiled with the exact command CMake uses for a real server
source (src/server/handlers.c, from compile_commands.json): it must FAIL, with
the header's #error text. The same file with the same command minus
-DPA_TRUST_HOST must compile (positive control: the guard, nothing else, is
what fails). Likewise for the client library (PA_TRUST_CLIENT) and the
enclave-only headers, and the shared headers must compile on every side.
Finally every source of each component carries its side's definition.

usage: check_trust_headers.py BUILD_DIR SOURCE_DIR"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

build, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
with open(os.path.join(build, "compile_commands.json")) as f:
    commands = json.load(f)

# Every header of src/enclave/ and of src/exchanges/ (the connectors, each
# venue's folder included) is enclave-only (a new one cannot be forgotten),
# plus the enclave halves of the envelope and attestation code.
ENCLAVE_DIRS = ["src/enclave", "src/exchanges"]
ENCLAVE_ONLY = sorted(os.path.relpath(os.path.join(d, h), source)
                      for top in ENCLAVE_DIRS
                      for d, _, files in os.walk(os.path.join(source, top))
                      for h in files if h.endswith(".h"))
ENCLAVE_ONLY += ["src/envelope/envelope_open.h", "src/envelope/credentials.h",
                 "src/envelope/envelope_keys.h", "src/attest/attest_produce.h",
                 "src/attest/attest_platform.h", "src/attest/nsm.h", "src/attest/platform_internal.h"]
INTERNAL = ["src/envelope/envelope_kdf.h"]
CLIENT_ONLY = ["src/envelope/envelope_seal.h"]
SHARED = ["src/envelope/envelope_format.h", "src/attest/attest_common.h",
          "src/attest/attest_verify.h", "src/ipc/ipc_contract.h", "src/common/ipc.h",
          "src/common/ipc_addr.h", "src/common/exchange_hosts.h"]

failures = []
passed = 0


def command_for(rel):
    path = os.path.join(source, rel)
    for c in commands:
        if os.path.realpath(c["file"]) == os.path.realpath(path):
            args = c.get("arguments") or shlex.split(c["command"])
            return args, c["directory"]
    sys.exit(f"FAIL: no compile command for {rel} in {build}/compile_commands.json")


def probe_args(args, src, header, drop_define=None):
    """The real command, turned into a syntax check of the probe file."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or os.path.realpath(a) == os.path.realpath(src):
            continue
        if drop_define is not None and a == "-D" + drop_define:
            continue
        out.append(a)
    # every component's directory (the header's, and those it includes), so
    # that only its guard can stop it
    dirs = sorted({os.path.dirname(os.path.join(source, header))} |
                  {os.path.join(source, "src", d) for d in os.listdir(os.path.join(source, "src"))
                   if os.path.isdir(os.path.join(source, "src", d))})
    return out + ["-fsyntax-only"] + [f"-I{d}" for d in dirs]


def compile_probe(side_src, include_first, header, drop_define=None):
    args, cwd = command_for(side_src)
    with tempfile.TemporaryDirectory(prefix="pa-trust.") as d:
        probe = os.path.join(d, "probe.c")
        with open(probe, "w") as f:
            f.write(f'#include "{include_first}"\n#include "{os.path.basename(header)}"\n'
                    "int pa_trust_probe;\n")
        r = subprocess.run(probe_args(args, os.path.join(source, side_src), header, drop_define)
                           + [probe], cwd=cwd, capture_output=True, text=True)
    return r.returncode, r.stderr


def expect(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


# (a real source of the side, one of its own headers, the define, the side's name)
sides = [("src/server/handlers.c", "handlers.h", "PA_TRUST_HOST", "host"),
         ("src/client/api.c", "perfagg_client.h", "PA_TRUST_CLIENT", "client")]
for src, own, define, side in sides:
    refused = ENCLAVE_ONLY + INTERNAL + (CLIENT_ONLY if side == "host" else [])
    for h in refused:
        kind = ("client-only" if h in CLIENT_ONLY else
                "envelope-internal" if h in INTERNAL else "enclave-only")
        text = f"{kind} header included in {side} code"
        rc, err = compile_probe(src, own, h)
        expect(rc != 0 and text in err,
               f"a {side} source including {h} compiled (rc={rc}) or failed without "
               f'"{text}": {err.strip()[:300]}')
        rc, err = compile_probe(src, own, h, drop_define=define)
        expect(rc == 0, f"positive control: {h} in a {side} source without -D{define} "
                        f"does not compile: {err.strip()[:300]}")
    for h in SHARED:
        rc, err = compile_probe(src, own, h)
        expect(rc == 0, f"shared header {h} does not compile in {side} code: {err.strip()[:300]}")

# every source of a side carries its definition, and the enclave's none
for c in commands:
    rel = os.path.relpath(os.path.realpath(c["file"]), os.path.realpath(source))
    args = c.get("arguments") or shlex.split(c["command"])
    has_host, has_client = "-DPA_TRUST_HOST" in args, "-DPA_TRUST_CLIENT" in args
    if rel.startswith("src/server/"):
        expect(has_host, f"{rel} is compiled without -DPA_TRUST_HOST")
    elif rel.startswith("src/client/"):
        expect(has_client, f"{rel} is compiled without -DPA_TRUST_CLIENT")
    elif rel.startswith(("src/enclave/", "src/exchanges/", "src/envelope/", "src/attest/")):
        expect(not has_host and not has_client, f"{rel} is compiled as host or client code")

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
