#!/usr/bin/env bash
# One entry point for people and CI:
#   ./run.sh dashboard   set up (venv + pinned requirements) and start the dashboard on demo data
#   ./run.sh test        set up and run the whole test suite (the README's and CI's test command)
#   ./run.sh setup       only set up
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

setup() {
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  # Reinstall only when requirements.txt changed since the last successful install.
  if ! cmp -s requirements.txt .venv/.installed-requirements 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
    cp requirements.txt .venv/.installed-requirements
  fi
}

browser() {
  # The real-browser test drives Debian's chromium through Playwright; install it when we can.
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

case "${1:-}" in
  dashboard)
    setup
    shift
    exec .venv/bin/streamlit run app.py "$@"
    ;;
  test)
    setup
    browser
    shift
    exec .venv/bin/python -m pytest -n 2 -q "$@"
    ;;
  setup)
    setup
    ;;
  *)
    echo "usage: ./run.sh dashboard | test | setup" >&2
    exit 2
    ;;
esac
