#!/usr/bin/env python3
"""CPPO deals as Kafka messages for the end-to-end tests and benchmark: one
JSON line per message, prefixed with "deal-N<TAB>" (kcat -K'\\t': one deal,
one partition, one order).

    deals.py --first 0 --count 250 [--company TEXT] [--name TEXT] [--summary FILE]

Each deal i is a registration (resale authorization resaleauthz-e2e-i with
one contact), the partner's Offer Released for it (linked by inference:
same product, partner and buyer) and the buyer's Agreement Created
(Manufacturer copy), so a correct daemon emits exactly two notifications:
partner_offer_extended/offer-e2e-i and new_order/agmt-e2e-i. Dates are
around now, so nothing has expired. --company and --name replace the buyer
company name and the authorization name (header injection tests). --summary
writes the notification keys the deals must produce, one per line.
"""
import argparse
import datetime as dt
import json
import sys

ISV, PARTNER = "111122223333", "444455556666"
PROD, TITLE = "prod-e2e0000000001", "Acme Observability Platform"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def eb(eid, detail_type, source, t, detail):
    return {"version": "0", "id": eid, "detail-type": detail_type, "source": source,
            "account": ISV, "time": iso(t), "region": "us-east-1", "resources": [],
            "detail": detail}


def deal(i, now, company, name):
    d = dt.timedelta
    buyer = "9%011d" % i
    ra, offer, agmt = "resaleauthz-e2e-%d" % i, "offer-e2e-%d" % i, "agmt-e2e-%d" % i
    t0 = now - d(days=3)
    uid = lambda k: "e2e0%04d-0000-4000-8000-%012d" % (k, i)
    reg = eb(uid(1), "Resale Authorization Registered", "cppo-notify", t0, {
        "resaleAuthorizationId": ra, "name": name or "E2E deal %d" % i, "productId": PROD,
        "productTitle": TITLE, "resellerAccountId": PARTNER, "resellerName": "Channel Partner Co",
        "buyerAccountIds": [buyer], "buyerCompanyName": company or "Buyer %d Ltd" % i,
        "expiresAt": iso(now + d(days=90)), "notify": ["ae%d@acme.test" % i],
        "metadata": {"crm_opportunity": "E2E-%06d" % i}})
    rel = eb(uid(2), "Offer Released", "aws.marketplacecatalog", t0 + d(hours=1), {
        "requestId": "req-e2e-rel-%d" % i, "catalog": "AWSMarketplace",
        "offer": {"id": offer, "name": "E2E offer %d" % i, "expirationDate": iso(now + d(days=30))},
        "product": {"id": PROD, "title": TITLE},
        "manufacturer": {"accountId": ISV, "name": "Acme Software Inc"},
        "sellerOfRecord": {"accountId": PARTNER, "name": "Channel Partner Co"},
        "targetedBuyerAccountIds": [buyer]})
    acc = t0 + d(days=1)
    agr = eb(uid(3), "Purchase Agreement Created - Manufacturer", "aws.agreement-marketplace", acc, {
        "requestId": "req-e2e-agr-%d" % i, "catalog": "AWSMarketplace",
        "agreement": {"id": agmt, "intent": "NEW", "status": "ACTIVE",
                      "acceptanceTime": iso(acc), "startTime": iso(acc),
                      "endTime": iso(acc + d(days=365))},
        "resaleAuthorization": {"id": ra}, "acceptor": {"accountId": buyer},
        "proposer": {"accountId": PARTNER}, "offer": {"id": offer}})
    return [reg, rel, agr], ["partner_offer_extended/" + offer, "new_order/" + agmt]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--company")
    ap.add_argument("--name")
    ap.add_argument("--summary")
    a = ap.parse_args()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    keys = []
    for i in range(a.first, a.first + a.count):
        events, k = deal(i, now, a.company, a.name)
        keys += k
        for e in events:
            sys.stdout.write("deal-%d\t%s\n" % (i, json.dumps(e, ensure_ascii=False,
                                                              separators=(",", ":"))))
    if a.summary:
        with open(a.summary, "w") as fh:
            fh.write("".join(k + "\n" for k in keys))


if __name__ == "__main__":
    main()
