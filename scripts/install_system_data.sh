#!/usr/bin/env bash
# Installs the Debian packages that carry the real offline data relreps runs on (see README).
# Idempotent: installs only what is missing; without apt or root it says what is missing and goes on.
set -u
# chromium: the report test opens the HTML report in a headless browser, as a user would.
packages=(dataset-fashion-mnist wordnet-base dict-freedict-eng-fra dict-gcide chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    echo "relreps set-up: installing Debian data packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -q >/dev/null 2>&1
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
            || echo "relreps set-up: could not install ${missing[*]}; the experiments that need them will say so" >&2
    fi
else
    echo "relreps set-up: missing Debian data packages (need apt and root): ${missing[*]}" >&2
    echo "  install with: sudo apt-get install ${missing[*]}" >&2
    echo "  relreps falls back to smaller data and skips what needs them, with the reason." >&2
fi
exit 0
