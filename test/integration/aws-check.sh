#!/usr/bin/env bash
# cppo-notifyctl aws check against the catalog stand-in (which verifies
# every SigV4 signature with botocore): permitted, a bad secret key (a clear
# error naming the fix, the key never printed), a missing permission (the
# minimal IAM policy), no credentials, temporary credentials (the token
# never printed), JSON output, usage errors. TAP.
set -u
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
CTL="$1"
ROOT="${CPPO_SOURCE_ROOT:?}"
if ! /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
  tap_skip_all "python3-botocore missing (scripts/install-deps installs it)"
fi
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
/usr/bin/python3 "$ROOT/test/tools/catalog-standin.py" \
  --fixture "$ROOT/test/fixtures/aws-catalog/catalog.json" >"$work/ready" 2>"$work/standin.err" &
pid=$!
for _ in $(seq 100); do grep -q '^ready ' "$work/ready" 2>/dev/null && break; sleep 0.1; done
port="$(awk '/^ready/ {print $2}' "$work/ready")"
[ -n "$port" ] || tap_bail "stand-in did not start"
url="http://127.0.0.1:$port"
control() { curl -sf -d "$1" "$url/_standin/control" >/dev/null; }

export HOME="$work" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI
good() { AWS_ACCESS_KEY_ID=AKIDSTANDIN AWS_SECRET_ACCESS_KEY=standin-secret-key "$@"; }

# each case runs one command into $work/out and tests its exit status and output
tap_on_failure() { tap_comment <"$work/out"; }
result() { tap_ok "$1" test "$2" -eq 0; } # description, condition exit status
run() { "$@" >"$work/out" 2>&1; echo $?; }

rc=$(good run "$CTL" aws check --endpoint "$url")
grep -q "credentials: environment" "$work/out" && [ "$(grep -c ' permitted$' "$work/out")" = 3 ]
result "all three permissions: exit $rc" $(( rc != 0 || $? ))

rc=$(AWS_ACCESS_KEY_ID=AKIDSTANDIN AWS_SECRET_ACCESS_KEY=typo-in-the-secret-key \
  run "$CTL" aws check --endpoint "$url")
grep -q "InvalidSignatureException" "$work/out" && grep -q "^fix: .*AWS_SECRET_ACCESS_KEY" "$work/out" \
  && ! grep -q "typo-in-the-secret-key" "$work/out"
result "a bad secret key: exit $rc, the fix named, the key not printed" $(( rc != 1 || $? ))

control '{"deny": ["DescribeEntity"]}'
rc=$(good run "$CTL" aws check --endpoint "$url")
grep -q "DescribeEntity  *missing: .*AccessDeniedException" "$work/out" &&
  sed -n '/^{/,/^}/p' "$work/out" | /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)
acts = sorted(p["Statement"][0]["Action"])
assert acts == ["aws-marketplace:DescribeChangeSet", "aws-marketplace:DescribeEntity",
                "aws-marketplace:ListEntities"], acts'
result "a missing permission: exit $rc and the minimal IAM policy" $(( rc != 1 || $? ))

rc=$(good run "$CTL" aws check --endpoint "$url" --json)
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["credentials_source"] == "environment"
assert d["permissions"]["DescribeEntity"]["result"] == "missing"
assert d["permissions"]["ListEntities"]["result"] == "permitted"
json.loads(d["iam_policy"])' "$work/out"
result "--json says the same: exit $rc" $(( rc != 1 || $? ))
control '{"reset": true}'

rc=$(run "$CTL" aws check --endpoint "$url")
grep -q "credentials: none usable" "$work/out" && grep -q "fix:" "$work/out"
result "no credentials: exit $rc and how to provide them" $(( rc != 1 || $? ))

rc=$(AWS_ACCESS_KEY_ID=ASIASTANDIN0003 AWS_SECRET_ACCESS_KEY=standin-secret-for-ASIASTANDIN0003 \
  AWS_SESSION_TOKEN=standin-token-for-ASIASTANDIN0003 run "$CTL" aws check --endpoint "$url")
! grep -q "standin-secret-for\|standin-token-for" "$work/out"
result "temporary credentials work, neither secret printed: exit $rc" $(( rc != 0 || $? ))

cat >"$work/credentials" <<'INI'
[deals]
aws_access_key_id = AKIDSTANDIN
aws_secret_access_key = standin-secret-key
INI
rc=$(AWS_SHARED_CREDENTIALS_FILE="$work/credentials" run "$CTL" aws check --profile deals \
  --endpoint "$url")
grep -q "credentials: shared file profile deals" "$work/out" && ! grep -q standin-secret-key "$work/out"
result "--profile reads the shared credentials file: exit $rc" $(( rc != 0 || $? ))

rc1=$(run "$CTL" aws check --bogus)
rc2=$(run "$CTL" aws frobnicate)
rc3=$(run "$CTL" aws check --endpoint "ftp://x")
result "usage errors exit 2 ($rc1 $rc2 $rc3)" $(( rc1 != 2 || rc2 != 2 || rc3 != 2 ))
tap_done
