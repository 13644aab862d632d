#!/usr/bin/env bash
# One entry point for a fresh machine with only Python 3.11:
#   bash scripts/dev.sh lab [groundup lab options]   set up .venv, run the main job
#   bash scripts/dev.sh test [pytest options]        set up .venv + test extras, run the suite
# Idempotent: a second run installs nothing (a stamp keyed on pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV=$ROOT/.venv
TORCH_VERSION=2.13.0

what=${1:-}
[ $# -gt 0 ] && shift
case "$what" in
  lab) extras="" ;;
  test) extras="[test]" ;;
  *) echo "usage: bash scripts/dev.sh lab|test [args...]" >&2; exit 2 ;;
esac

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
VPY=$VENV/bin/python
# keyed on what the install builds from too: a changed C extension is rebuilt
stamp=$VENV/.groundup-setup-$(cat pyproject.toml setup.py src/groundup/text/ngram/_scorer.c | sha256sum | cut -c1-16)${extras:+-test}
if [ ! -f "$stamp" ]; then
  # torch first and by exact version: an unpinned torch would pull a multi-GB CUDA build.
  if ! "$VPY" -c "import torch,sys; sys.exit(0 if torch.__version__.split('+')[0]=='$TORCH_VERSION' else 1)" 2>/dev/null; then
    "$VPY" -m pip install --disable-pip-version-check -q "torch==$TORCH_VERSION"
  fi
  "$VPY" -m pip install --disable-pip-version-check -q -e ".$extras"
  touch "$stamp"
fi

case "$what" in
  lab) exec "$VENV/bin/groundup" lab "$@" ;;
  test) exec "$VPY" -m pytest "$@" ;;
esac
