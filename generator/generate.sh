#!/usr/bin/env bash
# Generate the `meganova` package from openapi/meganova.yaml into the folder $1 (created; must not exist).
# Used by `make generate` (then moved over meganova/) and `make check-generated` (then compared).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"
mkdir -p "$(dirname "$out")"
# The post-hooks call `ruff` from PATH: it must be the pinned one, or the output changes.
export PATH="$root/.venv-gen/bin:$PATH"
[ "$(ruff --version)" = "ruff $(sed -n 's/^ruff==//p' "$root/generator/requirements.txt")" ] || {
  echo "generate.sh: the pinned ruff is not in .venv-gen" >&2; exit 1; }
openapi-python-client generate \
  --path "$root/openapi/meganova.yaml" \
  --config "$root/generator/config.yaml" \
  --custom-template-path "$root/generator/templates" \
  --meta none --fail-on-warning \
  --output-path "$out" >/dev/null
# Static files, copied as they are (generator/static/: `python -m meganova`).
cp "$root/generator/static/__main__.py" "$out/__main__.py"
# PEP 561 marker: the package ships its type hints.
: > "$out/py.typed"
