#!/usr/bin/env bash
# Prints an HS256 token for flagd's --auth-jwt-secret-file (docs/security.md):
#   deploy/kubernetes/mint-token.sh SECRET_FILE ROLE [SUBJECT] [SECONDS]
# ROLE is viewer, developer or admin; SUBJECT (default: $USER) is the actor
# in the audit log; the token expires after SECONDS (default 3600). Needs
# only bash and openssl, for a first look at a fresh deployment; an
# identity provider's tokens are the lasting answer.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 SECRET_FILE ROLE [SUBJECT] [SECONDS]" >&2
  exit 2
fi
secret_file=$1 role=$2 subject=${3:-${USER:-operator}} seconds=${4:-3600}
case "$role" in viewer | developer | admin) ;; *)
  echo "$0: ROLE must be viewer, developer or admin, not $role" >&2
  exit 2
  ;;
esac
# flagd ignores a trailing newline of the secret file; so does this.
secret=$(cat "$secret_file")
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"sub":"%s","role":"%s","iat":%d,"exp":%d}' \
  "$subject" "$role" "$now" $((now + seconds)) | b64url)
signature=$(printf '%s.%s' "$header" "$payload" |
  openssl dgst -sha256 -mac HMAC -macopt "key:$secret" -binary | b64url)
echo "$header.$payload.$signature"
