#!/usr/bin/python3
"""catalog-standin.py — local stand-ins for the AWS services cppo-notify calls.

    catalog-standin.py [--mode catalog] [--fixture FILE] [--generate N]
                       [--cred AKID:SECRET[:TOKEN]]... [--region R]
    catalog-standin.py --mode container [--auth-token T] [--expires-in S]
    catalog-standin.py --mode imds [--expires-in S] [--role NAME]

Binds 127.0.0.1 (--port 0: any free port) and prints "ready PORT".

catalog: the AWS Marketplace Catalog API (REST-JSON) for ListEntities,
DescribeEntity and DescribeChangeSet, with entities from a JSON fixture
({"entities": [...], "change_sets": [...]}, see test/fixtures/aws-catalog/)
and/or N generated resale authorizations. EVERY request's SigV4 signature is
recomputed with botocore's own signer (botocore.auth.SigV4Auth: canonical
request, string to sign, signature) from the method, path, query, the
headers the client declared signed, the body and the request's own
X-Amz-Date, for the credentials the access key id names; a mismatch is
answered 403 InvalidSignatureException, an unknown key 403
UnrecognizedClientException. Temporary keys handed out by the container
and imds modes ("ASIASTANDIN...") are accepted with their derived secret
and token. Scripted faults: POST /_standin/control with
    {"throttle": N}                        next N API calls get 429
    {"throttle_for": S}                    every API call for S seconds gets 429
    {"fail": [{"status": 500, "type": "InternalServiceException"}, ...]}
    {"deny": ["DescribeChangeSet"]}        AccessDeniedException per operation
    {"error_style": "header" | "body"}     X-Amzn-Errortype or body __type
    {"drop": N}                            next N API calls: connection closed
    {"reset": true}                        clears faults and counters
    {"put_entity": {...entity...}}         adds or replaces an entity
    {"update": {"id": ID, "details": {..}}} merges into its DetailsDocument
    {"change_set": {...}}                  adds a change set (DescribeChangeSet)
put_entity and update stamp LastModifiedDate with the current time (unless
the entity gives one), as the catalog does on every change.
GET /_standin/stats answers the counters ({"calls": {op: n}, "status":
{code: n}, "bad_signatures": n}). The control paths are unsigned.

container: ECS/EKS container credentials on any path; with --auth-token the
Authorization header must equal it. imds: EC2 IMDSv2 (PUT token, GET role,
GET credentials; 401 without a token). Both hand out fresh temporary
credentials on every fetch (ASIASTANDIN0001, 0002, ...) expiring after
--expires-in seconds, counted in /_standin/stats.

Needs Debian's python3-botocore, importable by /usr/bin/python3 only.
"""
import argparse
import base64
import datetime
import hmac
import json
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "aws-marketplace"
TEMP_PREFIX = "ASIASTANDIN"
LOCK = threading.Lock()
STATE = {
    "creds": {},  # access key id -> (secret, token or None)
    "region": "us-east-1",
    "entities": {},  # id -> entity
    "order": [],  # resale authorization ids in list order
    "change_sets": {},
    "throttle": 0,
    "throttle_until": 0.0,
    "fail": [],
    "deny": set(),
    "drop": 0,
    "error_style": "header",
    "calls": {},
    "status": {},
    "bad_signatures": 0,
    "fetches": 0,
    "issued": 0,
    "mode": "catalog",
    "auth_token": None,
    "expires_in": 3600,
    "role": "cppo-notify-role",
    "imds_tokens": set(),
}


def temp_secret(akid):
    return "standin-secret-for-" + akid


def temp_token(akid):
    return "standin-token-for-" + akid


def lookup_creds(akid):
    if akid in STATE["creds"]:
        return STATE["creds"][akid]
    if akid.startswith(TEMP_PREFIX):
        return temp_secret(akid), temp_token(akid)
    return None


def now_iso(offset=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_creds():
    with LOCK:
        STATE["issued"] += 1
        STATE["fetches"] += 1
        akid = "%s%04d" % (TEMP_PREFIX, STATE["issued"])
    return {
        "AccessKeyId": akid,
        "SecretAccessKey": temp_secret(akid),
        "Token": temp_token(akid),
        "Expiration": now_iso(STATE["expires_in"]),
    }


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=A/d/r/s/aws4_request, SignedHeaders=a;b, Signature=x'"""
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    parts = {}
    for item in value[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        parts[k] = v
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    scope = parts["Credential"].split("/")
    if len(scope) != 5:
        return None
    return scope, parts["SignedHeaders"].split(";"), parts["Signature"]


def verify_signature(method, raw_path, headers, body):
    """Returns None when the request is signed correctly, else (type, message)."""
    parsed = parse_authorization(headers.get("Authorization", ""))
    if parsed is None:
        return ("MissingAuthenticationTokenException", "Missing Authentication Token")
    scope, signed, signature = parsed
    akid, date, region, service, _ = scope
    found = lookup_creds(akid)
    if found is None:
        return ("UnrecognizedClientException", "The security token included in the request is invalid.")
    secret, token = found
    amz_date = headers.get("X-Amz-Date", "")
    if "host" not in signed or "x-amz-date" not in signed:
        return ("InvalidSignatureException", "host and x-amz-date must be signed")
    if token is not None:
        if headers.get("X-Amz-Security-Token") != token or "x-amz-security-token" not in signed:
            return ("UnrecognizedClientException", "The security token included in the request is invalid.")
    sent_hash = headers.get("X-Amz-Content-SHA256")
    if sent_hash is not None:
        import hashlib

        if sent_hash != hashlib.sha256(body).hexdigest():
            return ("InvalidSignatureException", "x-amz-content-sha256 does not match the body")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return ("InvalidSignatureException", "bad X-Amz-Date")
    skew = abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds())
    if skew > 900:
        return ("InvalidSignatureException", "Signature expired")
    # Rebuild the request as the client saw it, with exactly the headers it
    # declared signed, and let botocore's signer compute the signature for
    # our own region and service name: a wrong region, service, secret,
    # header or payload all give a different signature.
    host = headers.get("Host", "")
    request = AWSRequest(method=method, url="http://" + host + raw_path, data=body)
    for name in signed:
        value = headers.get_all(name) or []
        if not value:
            return ("InvalidSignatureException", "signed header %s is missing" % name)
        request.headers[name] = ",".join(value)
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(akid, secret, token), SERVICE, STATE["region"])
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if date != amz_date[:8] or region != STATE["region"] or service != SERVICE:
        return ("InvalidSignatureException", "Credential should be scoped to a valid region/service")
    if not hmac.compare_digest(expected, signature):
        return (
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    return None


def ra_summary(ent):
    d = ent["DetailsDocument"]
    rules = {r.get("Type"): r for r in d.get("Rules", [])}
    s = {
        "Name": d.get("Name"),
        "ProductId": d.get("ProductId"),
        "ProductName": d.get("ProductName"),
        "ManufacturerAccountId": d.get("ManufacturerAccountId"),
        "ManufacturerLegalName": d.get("ManufacturerLegalName"),
        "ResellerAccountID": rules.get("PartnerTargetingRule", {}).get("ResellerAccountId"),
        "ResellerLegalName": rules.get("PartnerTargetingRule", {}).get("ResellerLegalName"),
        "Status": d.get("Status"),
        "CreatedDate": (d.get("CreatedDate") or ent["LastModifiedDate"])[:19] + "Z",
        "AvailabilityEndDate": rules.get("AvailabilityRule", {}).get("AvailabilityEndDate"),
    }
    return {k: v for k, v in s.items() if v is not None}


def entity_type(ent):
    return ent["EntityType"].split("@")[0]


def generate(n):
    for i in range(n):
        eid = "resaleauthz-gen%06d" % i
        STATE["entities"][eid] = {
            "EntityId": eid,
            "EntityType": "ResaleAuthorization@1.0",
            "LastModifiedDate": "2024-01-%02dT10:00:00Z" % (1 + i % 28),
            "DetailsDocument": {
                "Name": "Generated authorization %d" % i,
                "ProductId": "prod-gen%03d" % (i % 7),
                "ProductName": "Generated product %d" % (i % 7),
                "Status": ["Active", "Draft", "Restricted"][i % 3],
                "ManufacturerAccountId": "111122223333",
                "Terms": [
                    {
                        "Type": "BuyerTargetingTerm",
                        "PositiveTargeting": {"BuyerAccounts": [{"AwsAccountId": "%012d" % (500000 + i)}]},
                    }
                ],
                "Rules": [
                    {"Type": "AvailabilityRule", "AvailabilityEndDate": "2030-12-31T23:59:59Z"},
                    {
                        "Type": "PartnerTargetingRule",
                        "ResellerAccountId": "%012d" % (700000 + i % 13),
                        "ResellerLegalName": "Partner %d" % (i % 13),
                    },
                ],
            },
        }


def load_fixture(path):
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    for ent in doc.get("entities", []):
        STATE["entities"][ent["EntityId"]] = ent
    for cs in doc.get("change_sets", []):
        STATE["change_sets"][cs["ChangeSetId"]] = cs


def list_order():
    ids = [e for e, v in STATE["entities"].items() if entity_type(v) == "ResaleAuthorization"]
    return sorted(ids)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _reply(self, status, doc=None, headers=None):
        body = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "standin-%d" % sum(STATE["calls"].values()))
        self.end_headers()
        self.wfile.write(body)
        with LOCK:
            key = str(status)
            STATE["status"][key] = STATE["status"].get(key, 0) + 1

    def _error(self, status, etype, message):
        if STATE["error_style"] == "body":
            self._reply(status, {"__type": etype, "message": message})
        else:
            self._reply(
                status,
                {"Message": message},
                {"X-Amzn-Errortype": etype + ":http://internal.amazon.com/coral/com.amazonaws.mpcs/"},
            )

    def _control(self, method, body):
        if self.path == "/_standin/stats":
            with LOCK:
                doc = {
                    "calls": STATE["calls"],
                    "status": STATE["status"],
                    "bad_signatures": STATE["bad_signatures"],
                    "fetches": STATE["fetches"],
                }
            self._reply(200, doc)
            return
        if self.path == "/_standin/control" and method == "POST":
            cmd = json.loads(body or b"{}")
            with LOCK:
                if cmd.get("reset"):
                    STATE.update(throttle=0, throttle_until=0.0, fail=[], deny=set(), drop=0, calls={}, status={},
                                 bad_signatures=0, fetches=0, error_style="header")
                STATE["throttle"] += int(cmd.get("throttle", 0))
                if "throttle_for" in cmd:
                    STATE["throttle_until"] = time.time() + float(cmd["throttle_for"])
                STATE["drop"] += int(cmd.get("drop", 0))
                STATE["fail"] += cmd.get("fail", [])
                STATE["deny"] |= set(cmd.get("deny", []))
                STATE["error_style"] = cmd.get("error_style", STATE["error_style"])
                if "put_entity" in cmd:
                    ent = dict(cmd["put_entity"])
                    ent.setdefault("LastModifiedDate", now_iso())
                    STATE["entities"][ent["EntityId"]] = ent
                if "update" in cmd:
                    ent = STATE["entities"].get(cmd["update"]["id"])
                    if ent is None:
                        self._reply(404, {"message": "no such entity"})
                        return
                    ent["DetailsDocument"].update(cmd["update"].get("details", {}))
                    ent["LastModifiedDate"] = now_iso()
                if "change_set" in cmd:
                    STATE["change_sets"][cmd["change_set"]["ChangeSetId"]] = cmd["change_set"]
            self._reply(200, {"ok": True})
            return
        self._reply(404, {"message": "unknown control path"})

    def _fault(self, op):
        """A scripted fault for this call, or None."""
        with LOCK:
            STATE["calls"][op] = STATE["calls"].get(op, 0) + 1
            if STATE["drop"] > 0:
                STATE["drop"] -= 1
                return "drop"
            if STATE["throttle"] > 0 or time.time() < STATE["throttle_until"]:
                STATE["throttle"] = max(0, STATE["throttle"] - 1)
                return (429, "ThrottlingException", "Rate exceeded")
            if STATE["fail"]:
                f = STATE["fail"].pop(0)
                return (f.get("status", 500), f.get("type", "InternalServiceException"), "scripted failure")
            if op in STATE["deny"]:
                return (403, "AccessDeniedException", "User is not authorized to perform: aws-marketplace:" + op)
        return None

    def _api(self, method):
        body = self._body()
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_standin/"):
            self._control(method, body)
            return
        if STATE["mode"] == "container":
            self._container()
            return
        if STATE["mode"] == "imds":
            self._imds(method, url.path)
            return
        ops = {("POST", "/ListEntities"): self._list, ("GET", "/DescribeEntity"): self._describe,
               ("GET", "/DescribeChangeSet"): self._change_set}
        handler = ops.get((method, url.path))
        if handler is None:
            self._error(404, "UnknownOperationException", "unknown operation")
            return
        bad = verify_signature(method, self.path, self.headers, body)
        if bad is not None:
            with LOCK:
                STATE["bad_signatures"] += 1
            self._error(403, bad[0], bad[1])
            return
        fault = self._fault(url.path[1:])
        if fault == "drop":
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        if fault is not None:
            self._error(*fault)
            return
        handler(dict(urllib.parse.parse_qsl(url.query)), body)

    def _list(self, query, body):
        try:
            req = json.loads(body)
        except ValueError:
            self._error(400, "SerializationException", "body is not JSON")
            return
        if req.get("Catalog") != "AWSMarketplace" or not req.get("EntityType"):
            self._error(422, "ValidationException", "Catalog and EntityType are required")
            return
        max_results = req.get("MaxResults", 20)
        if not isinstance(max_results, int) or not 1 <= max_results <= 50:
            self._error(422, "ValidationException", "MaxResults must be between 1 and 50")
            return
        after = (
            req.get("EntityTypeFilters", {}).get("ResaleAuthorizationFilters", {})
            .get("LastModifiedDate", {}).get("DateRange", {}).get("AfterValue")
        )
        ids = [i for i in list_order() if req["EntityType"] == "ResaleAuthorization"]
        if after:
            ids = [i for i in ids if STATE["entities"][i]["LastModifiedDate"] > after]
        start = 0
        if req.get("NextToken"):
            try:
                start = int(base64.b64decode(req["NextToken"]).decode().split(":")[1])
            except (ValueError, IndexError):
                self._error(422, "ValidationException", "invalid NextToken")
                return
        page = ids[start:start + max_results]
        out = {"EntitySummaryList": []}
        for eid in page:
            ent = STATE["entities"][eid]
            out["EntitySummaryList"].append({
                "Name": ent["DetailsDocument"].get("Name"),
                "EntityType": "ResaleAuthorization",
                "EntityId": eid,
                "EntityArn": "arn:aws:aws-marketplace:us-east-1:111122223333:AWSMarketplace/ResaleAuthorization/" + eid,
                "LastModifiedDate": ent["LastModifiedDate"],
                "Visibility": "Limited",
                "ResaleAuthorizationSummary": ra_summary(ent),
            })
        if start + max_results < len(ids):
            out["NextToken"] = base64.b64encode(("page:%d" % (start + max_results)).encode()).decode()
        self._reply(200, out)

    def _describe(self, query, body):
        if query.get("catalog") != "AWSMarketplace" or not query.get("entityId"):
            self._error(422, "ValidationException", "catalog and entityId are required")
            return
        ent = STATE["entities"].get(query["entityId"])
        if ent is None:
            self._error(404, "ResourceNotFoundException", "Entity not found")
            return
        if ent.get("Hidden"):
            self._error(403, "AccessDeniedException", "not authorized to describe this entity")
            return
        eid = ent["EntityId"]
        self._reply(200, {
            "EntityType": ent["EntityType"],
            "EntityIdentifier": eid + "@1",
            "EntityArn": "arn:aws:aws-marketplace:us-east-1:111122223333:AWSMarketplace/%s/%s" % (entity_type(ent), eid),
            "LastModifiedDate": ent["LastModifiedDate"],
            "Details": json.dumps(ent["DetailsDocument"]),
            "DetailsDocument": ent["DetailsDocument"],
        })

    def _change_set(self, query, body):
        if query.get("catalog") != "AWSMarketplace" or not query.get("changeSetId"):
            self._error(422, "ValidationException", "catalog and changeSetId are required")
            return
        cs = STATE["change_sets"].get(query["changeSetId"])
        if cs is None:
            self._error(404, "ResourceNotFoundException", "Change set not found")
            return
        out = {"ChangeSetArn": "arn:aws:aws-marketplace:us-east-1:111122223333:AWSMarketplace/ChangeSet/" + cs["ChangeSetId"],
               "Intent": "APPLY", "Status": "SUCCEEDED"}
        out.update(cs)
        self._reply(200, out)

    def _container(self):
        if STATE["auth_token"] is not None and self.headers.get("Authorization") != STATE["auth_token"]:
            self._reply(403, {"message": "bad authorization token"})
            return
        self._reply(200, issue_creds())

    def _imds(self, method, path):
        if method == "PUT" and path == "/latest/api/token":
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                self._reply(400)
                return
            token = "imds-token-%d" % len(STATE["imds_tokens"])
            with LOCK:
                STATE["imds_tokens"].add(token)
            body = token.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.headers.get("X-aws-ec2-metadata-token") not in STATE["imds_tokens"]:
            self._reply(401)
            return
        base = "/latest/meta-data/iam/security-credentials/"
        if path == base:
            body = STATE["role"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == base + STATE["role"]:
            doc = issue_creds()
            doc.update(Code="Success", Type="AWS-HMAC", LastUpdated=now_iso())
            self._reply(200, doc)
        else:
            self._reply(404)

    def do_GET(self):
        self._api("GET")

    def do_POST(self):
        self._api("POST")

    def do_PUT(self):
        self._api("PUT")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["catalog", "container", "imds"], default="catalog")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fixture")
    ap.add_argument("--generate", type=int, default=0)
    ap.add_argument("--cred", action="append", default=[])
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--auth-token")
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--role", default="cppo-notify-role")
    args = ap.parse_args()
    STATE.update(mode=args.mode, region=args.region, auth_token=args.auth_token,
                 expires_in=args.expires_in, role=args.role)
    for c in args.cred or ["AKIDSTANDIN:standin-secret-key"]:
        parts = c.split(":")
        STATE["creds"][parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    if args.fixture:
        load_fixture(args.fixture)
    generate(args.generate)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main()
