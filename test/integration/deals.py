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
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from events import REGISTERED, RELEASED, agreement, agreement_type, envelope, iso  # noqa: E402
from events import offer_released, registration  # noqa: E402

PARTNER, PARTNER_NAME = "444455556666", "Channel Partner Co"
PROD, TITLE = "prod-e2e0000000001", "Acme Observability Platform"


def deal(i, now, company, name):
    d = dt.timedelta
    buyer = "9%011d" % i
    ra, offer, agmt = "resaleauthz-e2e-%d" % i, "offer-e2e-%d" % i, "agmt-e2e-%d" % i
    t0 = now - d(days=3)
    uid = lambda k: "e2e0%04d-0000-4000-8000-%012d" % (k, i)
    reg = envelope(REGISTERED, registration(
        ra, name or "E2E deal %d" % i, PROD, PARTNER, [buyer], company or "Buyer %d Ltd" % i,
        ["ae%d@acme.test" % i], {"crm_opportunity": "E2E-%06d" % i}, product_title=TITLE,
        reseller_name=PARTNER_NAME, expires=iso(now + d(days=90))), uid(1), iso(t0))
    rel = envelope(RELEASED, offer_released(
        "req-e2e-rel-%d" % i, offer, "E2E offer %d" % i, PROD, TITLE, PARTNER, PARTNER_NAME,
        [buyer], expires=iso(now + d(days=30))), uid(2), iso(t0 + d(hours=1)))
    acc = t0 + d(days=1)
    agr = envelope(agreement_type("Created - Manufacturer"), agreement(
        "req-e2e-agr-%d" % i, agmt, ra, buyer, PARTNER, offer, accepted=iso(acc),
        end=iso(acc + d(days=365))), uid(3), iso(acc))
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
