#!/usr/bin/env python3
"""Generates a deterministic stream of AWS Marketplace messages for tests and
benchmarks: JSON lines, one Kafka message per line.

    gen-events.py --deals 1000 --seed 7 [--malformed-pct 5] [--envelopes mixed|raw|sqs|sns-in-sqs]
                  [--summary FILE] [--keyed] [--interleave N]

Each deal is a CPPO story on the ISV's bus (account 111122223333): usually a
registration, an Offer Released (partner copy too, sometimes), Agreement
Created in its Manufacturer and Proposer copies, sometimes an amendment, a
replacement or an end, and duplicates — shuffled within a window so offer
ids arrive late and events out of order. --summary writes what a correct
consumer must find: message counts and the notification keys it must emit.
"""
import argparse
import json
import os
import random
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from events import ISV, REGISTERED, RELEASED, agreement, agreement_type, envelope  # noqa: E402
from events import offer_released, registration  # noqa: E402

LICENSE_UPDATED = ("License Updated - Manufacturer", "aws.agreement-marketplace")
ENDLESS = "2027-01-01T00:00:00Z"


def uid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def eb(rng, event_type, account, time, detail):
    # the id is drawn after the detail's own draws: the order the stream was always drawn in
    return envelope(event_type, detail, uid(rng), time, account)


def ts(day, sec):
    return "2025-%02d-%02dT%02d:%02d:%02dZ" % (1 + day // 28 % 12, 1 + day % 28, sec // 3600 % 24,
                                               sec // 60 % 60, sec % 60)


def deal(rng, i):
    """Returns (events, expected notification keys) for deal i."""
    partner = "4444%08d" % (i % 50)
    buyer = "7777%08d" % i
    ra, offer, agmt = "resaleauthz-d%06d" % i, "offer-d%06d" % i, "agmt-d%06d" % i
    product = "prod-p%03d" % (i % 7)
    day = i % 300
    rid = lambda: uid(rng)
    parties = (ra, buyer, partner, offer)
    events, keys = [], []
    registered = rng.random() < 0.8
    if registered:
        events.append(eb(rng, REGISTERED, ISV, ts(day, 100), registration(
            ra, "Deal %d" % i, product, partner, [buyer], "Buyer %d GmbH" % i,
            ["rep%d@example.com" % i],
            {"crm": "OPP-%05d" % i, "region": rng.choice(["EMEA", "AMER", "APJ"])},
            offer_ids=[offer] if rng.random() < 0.3 else [])))
    events.append(eb(rng, RELEASED, ISV, ts(day, 200), offer_released(
        rid(), offer, "Deal %d offer" % i, product, "Product %s" % product, partner,
        "Partner %s" % partner, [buyer], expires=ENDLESS, manufacturer_name="Acme")))
    events.append(eb(rng, RELEASED, partner, ts(day, 200), dict(
        events[-1]["detail"], requestId=rid())))  # the partner's copy, relayed too
    accepted = rng.random() < 0.7
    if accepted:
        events.append(eb(rng, LICENSE_UPDATED, ISV, ts(day, 310), {
            "requestId": rid(), "catalog": "AWSMarketplace", "agreement": {"id": agmt},
            "product": {"code": "code%03d" % (i % 7), "id": product},
            "acceptor": {"accountId": buyer}, "proposer": {"accountId": partner}, "offer": {"id": offer}}))
        for role, account in (("Manufacturer", ISV), ("Proposer", partner)):
            events.append(eb(rng, agreement_type("Created - " + role), account, ts(day, 300),
                             agreement(rid(), agmt, *parties, accepted=ts(day, 290), end=ENDLESS)))
        keys.append("new_order/" + agmt)
        if rng.random() < 0.4:
            amend = rid()
            events.append(eb(rng, agreement_type("Amended - Manufacturer"), ISV, ts(day, 400),
                             agreement(amend, agmt, *parties, intent="AMEND")))
        if rng.random() < 0.1:
            events.append(eb(rng, agreement_type("Ended - Manufacturer"), ISV, ts(day, 500),
                             agreement(rid(), agmt, *parties, intent=None, status="CANCELLED")))
            keys.append("order_ended/" + agmt)
    # duplicates, as SQS/SNS/Kafka redelivery makes them
    for e in list(events):
        if rng.random() < 0.35:
            events.append(json.loads(json.dumps(e)))
    rng.shuffle(events)  # offer ids arrive late, agreements before offers
    return events, keys


def wrap(rng, event, how):
    body = json.dumps(event, separators=(",", ":"))
    mid = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if how == "raw":
        return body
    if how == "sqs":
        return json.dumps({"MessageId": mid(), "ReceiptHandle": "rh", "MD5OfBody": "x", "Body": body})
    if how == "sns":
        return json.dumps({"Type": "Notification", "MessageId": mid(), "TopicArn": "arn:aws:sns:us-east-1:1:t",
                           "Message": body, "Timestamp": "2025-03-12T16:04:52.406Z"})
    if how == "sns-in-sqs":
        return json.dumps({"MessageId": mid(), "Body": wrap(rng, event, "sns")})
    if how == "lambda":
        return json.dumps({"Records": [{"messageId": mid(), "body": body, "eventSource": "aws:sqs"}]})
    raise ValueError(how)


# (reason the daemon must give, message)
MALFORMED = [
    lambda r: ("invalid_json", '{"version":"0","id":"x"'),  # truncated JSON
    lambda r: ("invalid_json", 'not json at all %d' % r.getrandbits(32)),
    lambda r: ("envelope_not_json", json.dumps({"MessageId": "m%d" % r.getrandbits(32), "Body": "{not json"})),
    lambda r: ("wrong_type", json.dumps({"detail-type": "Offer Released", "source": "aws.marketplacecatalog",
                                         "account": ISV, "id": "i%d" % r.getrandbits(32), "detail": {"offer": "oops"}})),
    lambda r: ("missing_id", json.dumps({"detail-type": "Purchase Agreement Created - Manufacturer",
                                         "source": "aws.agreement-marketplace", "account": ISV,
                                         "id": "i%d" % r.getrandbits(32),
                                         "detail": {"requestId": "r%d" % r.getrandbits(32)}})),
]


def event_key(e):
    """The event key (doc/model.md), as cppo-notify computes it."""
    rid = e["detail"].get("requestId")
    if rid:
        return "%s|%s|%s" % (e["account"], e["detail-type"], rid)
    return "id:" + e["id"]


def interleave(by_deal, n, rng):
    """Merges the deals' line lists in groups of n, each list's order kept.
    Its own rng: without --interleave the output is what it always was."""
    out = []
    for g in range(0, len(by_deal), max(n, 1)):
        group = [list(d) for d in by_deal[g:g + max(n, 1)] if d]
        while group:
            d = rng.randrange(len(group))
            out.append(group[d].pop(0))
            if not group[d]:
                group.pop(d)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--first-deal", type=int, default=0,
                    help="number deals from here, so that several streams (with different seeds) never share ids")
    ap.add_argument("--malformed-pct", type=float, default=5.0)
    ap.add_argument("--envelopes", default="mixed", choices=["mixed", "raw", "sqs", "sns-in-sqs"])
    ap.add_argument("--summary")
    ap.add_argument("--keyed", action="store_true",
                    help="prefix each line with 'deal-N<TAB>' (kcat -K'\\t'): one deal, one partition, one order")
    ap.add_argument("--interleave", type=int, default=1, metavar="N",
                    help="interleave the events of each N consecutive deals (each deal's own order kept), "
                         "so that a cut in the stream falls inside many deals' stories")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    lines, keys, valid, event_keys, reasons = [], [], 0, set(), {}
    by_deal = []
    prefix = (lambda i: "deal-%d\t" % i) if a.keyed else (lambda i: "")
    for i in range(a.first_deal, a.first_deal + a.deals):
        events, k = deal(rng, i)
        keys += k
        by_deal.append([])
        for e in events:
            event_keys.add(event_key(e))
            how = a.envelopes if a.envelopes != "mixed" else rng.choice(["raw", "sqs", "sns", "sns-in-sqs", "lambda"])
            by_deal[-1].append(prefix(i) + wrap(rng, e, how))
            valid += 1
    lines = interleave(by_deal, a.interleave, random.Random(a.seed + 1))
    malformed = 0
    if a.malformed_pct > 0:
        n = int(len(lines) * a.malformed_pct / (100 - a.malformed_pct))
        for _ in range(n):
            reason, text = rng.choice(MALFORMED)(rng)
            reasons[reason] = reasons.get(reason, 0) + 1
            lines.insert(rng.randrange(len(lines) + 1), prefix(a.first_deal + a.deals) + text)
            malformed += 1
    out = sys.stdout
    for line in lines:
        out.write(line + "\n")
    if a.summary:
        with open(a.summary, "w") as fh:
            json.dump({"messages": len(lines), "valid": valid, "malformed": malformed,
                       "rejected_by_reason": reasons, "event_keys": sorted(event_keys),
                       "required_notification_keys": sorted(set(keys))}, fh, indent=1)


if __name__ == "__main__":
    main()
