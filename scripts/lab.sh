#!/usr/bin/env bash
# Deploys (`up`) or removes (`down`) the lab with Pulumi's local file backend: no Pulumi account.
# Usage: npm run lab:up [-- STACK]     (default stack: dev; `ci` builds on the offline bases)
#        npm run lab:down [-- STACK]
# State lives in .pulumi-state/ (override with PULUMI_BACKEND_URL). Secrets (Grafana's admin
# password) are encrypted with PULUMI_CONFIG_PASSPHRASE; when it is unset, Pulumi asks for it.
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:?usage: lab.sh up|down [STACK]}"
stack="${2:-dev}"
case "$action" in
  up | down) ;;
  *)
    echo "unknown action '$action': use up or down" >&2
    exit 2
    ;;
esac

# The command-line tools first, in a blink: `npm ci` takes half a minute and nothing after it works
# without them. Same names and fixes as `npm run doctor` (scripts/doctor.ts), which checks the rest
# (Node's version, the engine) once the dependencies are installed.
missing=()
require_cli() { # command, check name, purpose, fix
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "  MISS  $2: $1 is not on the PATH" >&2
  echo "        needed for: $3" >&2
  echo "        fix: $4" >&2
  missing+=("$2")
}
require_cli node "Node.js ≥ 20" "runs the Pulumi program, the tests and the bench" \
  'install Node 20 or newer (https://nodejs.org, or `nvm install 22`)'
require_cli docker "docker CLI" "the preflight, the tests and \`npm run images:base\` call it" \
  'Debian/Ubuntu: `sudo apt-get install docker.io`; elsewhere https://docs.docker.com/engine/install/'
require_cli pulumi "Pulumi CLI" "\`pulumi up\` / \`pulumi destroy\` deploy and remove the lab (the unit tests do not need it)" \
  '`curl -fsSL https://get.pulumi.com | sh` (then open a new shell), or `brew install pulumi`'
if ((${#missing[@]} > 0)); then
  joined="$(printf '%s, ' "${missing[@]}")"
  echo "Missing required prerequisite(s): ${joined%, }. Fix them as shown above, then run \`npm run lab:$action\` again." >&2
  if [[ " ${missing[*]} " == *" Pulumi CLI "* ]]; then
    echo "Without Pulumi, these work now (QUICKSTART.md, \"No Pulumi yet?\"):" >&2
    echo "  - a web API container by hand, then \`npm run bench -- --target microvm=http://127.0.0.1:8002,cpus=1,memoryMb=256\`" >&2
    echo "  - \`npm run unikernel -- up --stack ci\`: the unikernel built from source and booted by QEMU" >&2
    echo "  - \`npm run policy:check\` and \`npm test\`: the policies and the unit tests" >&2
  fi
  exit 1
fi

# Every pulumi command below reads the backend from the environment: no `pulumi login`, which would
# switch the user's own default backend for every other project too.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then mkdir -p "${PULUMI_BACKEND_URL#file://}"; fi
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  echo "note: PULUMI_CONFIG_PASSPHRASE is not set; Pulumi will ask for the passphrase that protects this stack's secrets." >&2
fi

case "$action" in
  up)
    npm ci --no-audit --no-fund
    npm run --silent doctor -- --stack "$stack"
    pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"
    pulumi up --yes --stack "$stack"
    pulumi stack output --stack "$stack"
    ;;
  down)
    pulumi destroy --yes --stack "$stack"
    ;;
esac
