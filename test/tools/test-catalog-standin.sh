#!/usr/bin/env bash
# The catalog stand-in speaks AWS's wire protocol: the real AWS CLI (Debian's
# awscli, its own botocore) lists, describes and pages through it with
# --endpoint-url, and a wrong secret key, a stale session token or a request
# signed for another region is refused with 403. TAP.
set -u
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
ROOT="${CPPO_SOURCE_ROOT:?}"
STANDIN="$ROOT/test/tools/catalog-standin.py"
FIXTURE="$ROOT/test/fixtures/aws-catalog/catalog.json"
AWS=/usr/bin/aws
[ -x "$AWS" ] || AWS="$(command -v aws || true)"
if [ -z "$AWS" ] || ! /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
  tap_skip_all "awscli or python3-botocore missing (scripts/install-deps installs both)"
fi

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/python3 "$STANDIN" --fixture "$FIXTURE" >"$work/ready" 2>"$work/standin.err" &
pid=$!
for _ in $(seq 100); do grep -q '^ready ' "$work/ready" 2>/dev/null && break; sleep 0.1; done
port="$(awk '/^ready/ {print $2}' "$work/ready")"
[ -n "$port" ] || tap_bail "stand-in did not start: $(cat "$work/standin.err")"

export HOME="$work" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDSTANDIN
export AWS_SECRET_ACCESS_KEY=standin-secret-key
unset AWS_SESSION_TOKEN AWS_PROFILE
mc() { "$AWS" marketplace-catalog "$@" --endpoint-url "http://127.0.0.1:$port" --region us-east-1 \
         --output json; }

# each case runs the CLI into $work/out and $work/err, then checks them
tap_on_failure() { cat "$work/out" "$work/err" 2>/dev/null | tap_comment; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$work/out')); print($1)"; }

mc list-entities --catalog AWSMarketplace --entity-type ResaleAuthorization >"$work/out" 2>"$work/err"
tap_ok "aws list-entities returns both fixture authorizations" \
  test "$(json "' '.join(sorted(e['EntityId'] for e in d['EntitySummaryList']))" 2>/dev/null)" = \
  "resaleauthz-fabrikam-open resaleauthz-northwind-12m"

mc list-entities --catalog AWSMarketplace --entity-type ResaleAuthorization --max-results 1 \
  >"$work/out" 2>"$work/err"
token="$(json "d['EntitySummaryList'][0]['EntityId'] + ' ' + d['NextToken']" 2>/dev/null)"
mc list-entities --catalog AWSMarketplace --entity-type ResaleAuthorization --max-results 1 \
  --next-token "${token#* }" >"$work/out" 2>"$work/err"
tap_ok "aws list-entities pages with NextToken" \
  test "${token%% *} $(json "d['EntitySummaryList'][0]['EntityId'] + ' ' + str('NextToken' in d)")" = \
  "resaleauthz-fabrikam-open resaleauthz-northwind-12m False"

mc describe-entity --catalog AWSMarketplace --entity-id resaleauthz-northwind-12m \
  >"$work/out" 2>"$work/err"
tap_ok "aws describe-entity returns the DetailsDocument" \
  test "$(json "d['EntityType'] + '|' + json.loads(d['Details'])['Rules'][1]['ResellerLegalName']")" = \
  "ResaleAuthorization@1.0|Northwind Traders"

mc describe-change-set --catalog AWSMarketplace --change-set-id cs-restrict-fabrikam \
  >"$work/out" 2>"$work/err"
tap_ok "aws describe-change-set lists the entities touched" \
  test "$(json "d['ChangeSet'][0]['Entity']['Identifier']")" = "resaleauthz-fabrikam-open@2"

mc describe-entity --catalog AWSMarketplace --entity-id resaleauthz-nope >"$work/out" 2>"$work/err"
tap_ok "an unknown entity is ResourceNotFoundException" grep -q ResourceNotFoundException "$work/err"

AWS_SECRET_ACCESS_KEY=a-wrong-secret mc describe-entity --catalog AWSMarketplace \
  --entity-id resaleauthz-northwind-12m >"$work/out" 2>"$work/err"
rc=$?
tap_ok "a wrong secret key is refused with InvalidSignatureException (exit $rc)" \
  grep -q "InvalidSignatureException" "$work/err"

AWS_ACCESS_KEY_ID=ASIASTANDIN0007 AWS_SECRET_ACCESS_KEY=standin-secret-for-ASIASTANDIN0007 \
  AWS_SESSION_TOKEN=standin-token-for-ASIASTANDIN0007 \
  mc describe-entity --catalog AWSMarketplace --entity-id offer-northwind-q22310 \
  >"$work/out" 2>"$work/err"
tap_ok "temporary credentials with their session token are accepted" \
  test "$(json "json.loads(d['Details'])['ResaleAuthorizationId']")" = "resaleauthz-northwind-12m"

AWS_ACCESS_KEY_ID=ASIASTANDIN0007 AWS_SECRET_ACCESS_KEY=standin-secret-for-ASIASTANDIN0007 \
  AWS_SESSION_TOKEN=stale mc describe-entity --catalog AWSMarketplace \
  --entity-id offer-northwind-q22310 >"$work/out" 2>"$work/err"
tap_ok "a stale session token is refused" grep -q "UnrecognizedClientException" "$work/err"

"$AWS" marketplace-catalog describe-entity --endpoint-url "http://127.0.0.1:$port" \
  --region eu-west-1 --catalog AWSMarketplace --entity-id resaleauthz-northwind-12m \
  >"$work/out" 2>"$work/err"
tap_ok "a request signed for another region is refused" grep -q "InvalidSignatureException" "$work/err"
tap_done
