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

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then mkdir -p "${PULUMI_BACKEND_URL#file://}"; fi
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  echo "note: PULUMI_CONFIG_PASSPHRASE is not set; Pulumi will ask for the passphrase that protects this stack's secrets." >&2
fi

case "$action" in
  up)
    npm ci --no-audit --no-fund
    npm run --silent doctor -- --stack "$stack"
    pulumi login "$PULUMI_BACKEND_URL"
    pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"
    pulumi up --yes --stack "$stack"
    pulumi stack output --stack "$stack"
    ;;
  down)
    pulumi login "$PULUMI_BACKEND_URL"
    pulumi destroy --yes --stack "$stack"
    ;;
  *)
    echo "unknown action '$action': use up or down" >&2
    exit 2
    ;;
esac
