#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs it all:
# lint, types, and pytest (unit, integration, deployment and real-agent end-to-end tests).
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v git >/dev/null 2>&1 || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "== pip install -e .[test]"
python3 -m pip install -q --disable-pip-version-check -e '.[test]'

if [ -f tests/e2e/package.json ]; then
  echo "== npm install (real agents for the end-to-end tests)"
  (cd tests/e2e && npm install --no-audit --no-fund --loglevel=error)
fi

echo "== ruff"
python3 -m ruff check sidecar tests bench grafana
echo "== mypy"
python3 -m mypy
echo "== pytest"
python3 -m pytest -q "$@"
