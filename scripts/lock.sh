#!/usr/bin/env bash
# Regenerate the lock files (every package, transitive ones too, pinned with hashes) after a
# change to requirements.txt or requirements-dev.txt. setup.sh installs from the lock files.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"$PYTHON" -m venv "$tools"
"$tools/bin/pip" install --quiet pip-tools==7.6.2
for name in requirements requirements-dev; do
  "$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-find-links --no-emit-index-url --output-file "$name.lock" "$name.txt"
done
