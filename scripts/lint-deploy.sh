#!/usr/bin/env bash
# Checks the deployment files without a container runtime (`make lint-deploy`):
#   deploy/container/Dockerfile  stages, COPY sources, no compilers and a
#                                non-root USER in every runtime stage, exec-form
#                                ENTRYPOINT (a careful check: hadolint is not in
#                                Debian)
#   deploy/container/compose.yaml  docker-compose config (Debian's 1.29, which
#                                predates the top-level `name:`, so that line is
#                                left out of its copy); targets exist
#   deploy/container/*.sh        sh -n
#   deploy/systemd/*.service     systemd-analyze verify, which must print nothing
# When a Docker daemon answers (`docker info`), also builds every target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/deps.sh" docker-compose
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

python3 - "$root" <<'PY' || fail=1
import json, re, sys, os
root = sys.argv[1]
text = open(os.path.join(root, "deploy/container/Dockerfile")).read()
# join continuation lines, drop comments
lines, cur = [], ""
for raw in text.splitlines():
    s = raw.strip()
    if not cur and (not s or s.startswith("#")):
        continue
    if s.startswith("#"):
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    lines.append(cur + s)
    cur = ""
errors = []
stages, order = {}, []
stage = None
for ln in lines:
    op, _, rest = ln.partition(" ")
    op = op.upper()
    if op == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.I)
        if not m or not m.group(2):
            errors.append(f"FROM without a stage name: {ln}")
            continue
        stage = m.group(2)
        if stage in stages:
            errors.append(f"stage {stage} defined twice")
        stages[stage] = {"base": m.group(1), "ops": []}
        order.append(stage)
    elif op in ("ARG",) and stage is None:
        continue
    elif stage is None:
        errors.append(f"instruction before FROM: {ln}")
    else:
        stages[stage]["ops"].append((op, rest.strip()))
known_ops = {"RUN", "COPY", "ENV", "USER", "WORKDIR", "ENTRYPOINT", "CMD", "EXPOSE", "ARG",
             "STOPSIGNAL", "LABEL", "HEALTHCHECK"}
compilers = re.compile(r"(^|\s)(build-essential|gcc|g\+\+|clang|cmake|make|ninja-build|cpp|"
                       r"[a-z0-9.+-]+-dev)(\s|;|$)")
for name in order:
    st = stages[name]
    base = st["base"]
    if base not in stages and not re.match(r"^\$\{BASE\}$|^debian:", base):
        errors.append(f"{name}: unexpected base {base}")
    users = []
    for op, rest in st["ops"]:
        if op not in known_ops:
            errors.append(f"{name}: unknown instruction {op}")
        if op == "COPY":
            m = re.match(r"--from=(\S+)\s", rest)
            if m:
                if m.group(1) not in order[:order.index(name)]:
                    errors.append(f"{name}: COPY --from={m.group(1)}: no earlier stage")
            else:
                for src in rest.split()[:-1]:
                    if not src.startswith("--") and not os.path.exists(os.path.join(root, src)):
                        errors.append(f"{name}: COPY source {src} not in the repository")
        if op == "USER":
            users.append(rest.split(":")[0])
        if op in ("ENTRYPOINT", "CMD"):
            try:
                v = json.loads(rest)
                assert isinstance(v, list) and all(isinstance(x, str) for x in v)
            except Exception:
                errors.append(f"{name}: {op} is not in exec (JSON) form: {rest}")
        if op == "RUN" and name != "build" and "apt-get install" in rest:
            pkgs = rest.split("apt-get install", 1)[1].split(";")[0]
            if compilers.search(pkgs):
                errors.append(f"{name}: installs a compiler or -dev package: {pkgs.strip()}")
    final = name not in ("build", "runtime")
    # inherited USER from a parent stage counts
    parent = base if base in stages else None
    if final and not users and parent:
        users = [u for op, r in stages[parent]["ops"] if op == "USER" for u in [r.split(":")[0]]]
    if final and (not users or users[-1] in ("root", "0")):
        errors.append(f"{name}: runs as root (no non-root USER)")
    if final and not any(op in ("ENTRYPOINT", "CMD") for op, _ in st["ops"]):
        errors.append(f"{name}: no ENTRYPOINT")
targets = set(order)
compose = open(os.path.join(root, "deploy/container/compose.yaml")).read()
for t in re.findall(r"target:\s*([a-z-]+)", compose):
    if t not in targets:
        errors.append(f"compose.yaml: target {t} is not a Dockerfile stage")
for e in errors:
    print("Dockerfile/compose:", e)
print(f"Dockerfile: {len(order)} stages checked ({', '.join(order)})")
sys.exit(1 if errors else 0)
PY

grep -v '^name: ' deploy/container/compose.yaml >"$root/deploy/container/.lint-compose.yaml"
if docker-compose -f "$root/deploy/container/.lint-compose.yaml" config -q; then
  echo "compose.yaml: docker-compose config: ok"
else
  fail=1
fi
rm -f "$root/deploy/container/.lint-compose.yaml"

for s in deploy/container/*.sh; do sh -n "$s" || fail=1; done

if command -v systemd-analyze >/dev/null; then
  # verify wants the ExecStart programs to exist: point them at this build
  for u in deploy/systemd/*.service; do
    sed -e "s#/usr/local/bin/\(perfagg[a-z-]*\)#$root/build/\1#" "$u" >"$tmp/$(basename "$u")"
  done
  out=$(cd "$tmp" && systemd-analyze verify ./*.service 2>&1) || fail=1
  if [ -n "$out" ]; then
    echo "$out"
    fail=1
  else
    echo "systemd units: systemd-analyze verify: ok"
  fi
else
  echo "systemd-analyze not found: units not checked"
fi

if timeout 10 docker info >/dev/null 2>&1; then
  for t in $(sed -n 's/^FROM .* AS \([a-z-]*\)$/\1/p' deploy/container/Dockerfile); do
    docker build -q -f deploy/container/Dockerfile --target "$t" -t "perfagg/$t:lint" . || fail=1
  done
else
  echo "no Docker daemon answers here: the images were not built (files checked only)"
fi
exit $fail
