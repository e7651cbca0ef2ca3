#!/usr/bin/env python3
"""The demo's CPPO story, as JSON lines (one Kafka message each), with dates
around now so that nothing in it has expired when the demo runs:

    story.py [--now 2026-11-25T12:00:00Z]

1. the CRM registers "Contoso Bank 12m Enterprise"; the partner releases
   its offer (linked by inference: same product, partner and buyer);
2. the buyer accepts: Manufacturer and Proposer copies of one fact;
3. Fabrikam: registered, and the buyer accepts BEFORE the Offer Released
   reaches the ISV; the Offer Released comes after;
4. the Contoso agreement is amended;
5. an offer for a buyer nobody registered (held until associated).
"""
import argparse
import datetime as dt
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test",
                                "tools"))
from events import REGISTERED, RELEASED, agreement_type, envelope, iso  # noqa: E402
import events  # noqa: E402

PARTNER, PARTNER_NAME = "444455556666", "Channel Partner Co"
PROD, TITLE = "prod-q7wz3k2m9xv4a", "Acme Observability Platform"


def eb(i, event_type, t, detail):
    return envelope(event_type, detail, "d3m0%04d-0000-4000-8000-%012d" % (i, i), iso(t))


def registration(i, t, ra, name, buyer, company, contact, meta, expires):
    return eb(i, REGISTERED, t, events.registration(
        ra, name, PROD, PARTNER, [buyer], company, [contact], meta, product_title=TITLE,
        reseller_name=PARTNER_NAME, expires=iso(expires)))


def released(i, t, offer, name, buyer, expires):
    return eb(i, RELEASED, t, events.offer_released(
        "req-demo-%d" % i, offer, name, PROD, TITLE, PARTNER, PARTNER_NAME, [buyer],
        expires=iso(expires)))


def agreement(i, t, kind, agmt, offer, ra, buyer, accepted, end, intent="NEW"):
    return eb(i, agreement_type(kind), t, events.agreement(
        "req-demo-%d" % i, agmt, ra, buyer, PARTNER, offer, intent=intent, accepted=iso(accepted),
        end=iso(end)))


def story(now):
    d = dt.timedelta
    t0 = now - d(days=14)
    year = d(days=365)
    c_ra, c_offer, c_agmt = "resaleauthz-contoso-12m", "offer-contoso-q20931", "agmt-contoso-0001"
    f_ra, f_offer, f_agmt = "resaleauthz-fabrikam-36m", "offer-fabrikam-q21077", "agmt-fabrikam-0001"
    c_accept, f_accept = t0 + d(days=8), t0 + d(days=10)
    return [
        registration(1, t0, c_ra, "Contoso Bank 12m Enterprise", "777788889999", "Contoso Bank",
                     "ae.contoso@acme.test", {"crm_opportunity": "SFDC-0061A00000Xyz",
                                              "region": "EMEA", "deal_value": "$240,000"},
                     now + d(days=120)),
        released(2, t0 + d(days=1), c_offer,
                 "Contoso Bank 12m Enterprise via Channel Partner Co (Q-20931)", "777788889999",
                 now + d(days=30)),
        agreement(3, c_accept, "Created - Manufacturer", c_agmt, c_offer, c_ra, "777788889999",
                  c_accept, c_accept + year),
        agreement(4, c_accept + d(seconds=1), "Created - Proposer", c_agmt, c_offer, c_ra,
                  "777788889999", c_accept, c_accept + year),
        registration(5, t0 + d(days=2), f_ra, "Fabrikam 36m Platform", "222233334444",
                     "Fabrikam Ltd", "ae.fabrikam@acme.test",
                     {"crm_opportunity": "SFDC-0061A00000Fab", "region": "NA"},
                     now + d(days=90)),
        agreement(6, f_accept, "Created - Manufacturer", f_agmt, f_offer, f_ra, "222233334444",
                  f_accept, f_accept + 3 * year),
        released(7, f_accept + d(minutes=5), f_offer,
                 "Fabrikam 36m Platform via Channel Partner Co (Q-21077)", "222233334444",
                 now + d(days=20)),
        agreement(8, now - d(days=1), "Amended - Manufacturer", c_agmt, c_offer, c_ra,
                  "777788889999", now - d(days=1), c_accept + year, intent="AMEND"),
        released(9, now - d(hours=2), "offer-northwind-q22310",
                 "Northwind 12m via Channel Partner Co (Q-22310)", "555566667777",
                 now + d(days=30)),
        # nobody registered Woodgrove: the AWS sync found its authorization
        # in the seller's catalog (config/demo/catalog.json, the stand-in)
        released(10, now - d(hours=1), "offer-woodgrove-q23001",
                 "Woodgrove Bank 24m via Channel Partner Co (Q-23001)", "888899990000",
                 now + d(days=30)),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--now", help="ISO-8601 UTC time the story is told at (default: now)")
    a = ap.parse_args()
    now = (dt.datetime.strptime(a.now, "%Y-%m-%dT%H:%M:%SZ") if a.now
           else dt.datetime.utcnow().replace(microsecond=0))
    for e in story(now):
        print(json.dumps(e, separators=(",", ":")))


if __name__ == "__main__":
    main()
