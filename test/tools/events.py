"""AWS Marketplace events as EventBridge delivers them, built in one place
for the tests, the benchmarks and the demo (gen-events.py, deals.py,
config/demo/story.py, the CLI tests).

An event is envelope(TYPE, detail, ...) with TYPE one of the (detail-type,
source) pairs below and detail from registration(), offer_released() or
agreement(). The builders return plain dicts whose key order is fixed, so
that a generator seeded the same way writes the same bytes; optional
fields appear only when given. Times are strings (iso() turns a datetime
into one), so that a caller decides what its clock is.
"""

ISV = "111122223333"  # the seller (manufacturer) every test story is told for

REGISTERED = ("Resale Authorization Registered", "cppo-notify")
RELEASED = ("Offer Released", "aws.marketplacecatalog")


def agreement_type(kind):
    """("Purchase Agreement <kind>", its source); kind e.g. "Created - Manufacturer"."""
    return ("Purchase Agreement " + kind, "aws.agreement-marketplace")


def iso(t):
    """A datetime as EventBridge writes times: UTC, whole seconds."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(event_type, detail, event_id, time, account=ISV):
    """The EventBridge envelope around detail; event_type is a pair above."""
    detail_type, source = event_type
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": source,
            "account": account, "time": time, "region": "us-east-1", "resources": [],
            "detail": detail}


def _put(d, key, value):
    if value is not None:
        d[key] = value
    return d


def registration(ra, name, product, reseller, buyers, company, notify, metadata, product_title=None,
                 reseller_name=None, expires=None, offer_ids=None):
    """A CRM's "Resale Authorization Registered" detail."""
    d = {"resaleAuthorizationId": ra, "name": name, "productId": product}
    _put(d, "productTitle", product_title)
    d["resellerAccountId"] = reseller
    _put(d, "resellerName", reseller_name)
    d.update({"buyerAccountIds": buyers, "buyerCompanyName": company})
    _put(d, "expiresAt", expires)
    d.update({"notify": notify, "metadata": metadata})
    return _put(d, "offerIds", offer_ids)


def offer_released(request_id, offer, offer_name, product, product_title, seller, seller_name,
                   buyers, expires=None, manufacturer_name="Acme Software Inc"):
    """A partner's "Offer Released" detail, as the ISV's bus receives it."""
    return {"requestId": request_id, "catalog": "AWSMarketplace",
            "offer": _put({"id": offer, "name": offer_name}, "expirationDate", expires),
            "product": {"id": product, "title": product_title},
            "manufacturer": {"accountId": ISV, "name": manufacturer_name},
            "sellerOfRecord": {"accountId": seller, "name": seller_name},
            "targetedBuyerAccountIds": buyers}


def agreement(request_id, agmt, ra, buyer, proposer, offer, intent="NEW", status="ACTIVE",
              accepted=None, end=None):
    """A "Purchase Agreement ..." detail; intent None leaves it out (an
    end), accepted sets both acceptanceTime and startTime."""
    a = _put({"id": agmt}, "intent", intent)
    a["status"] = status
    if accepted is not None:
        a.update({"acceptanceTime": accepted, "startTime": accepted})
    _put(a, "endTime", end)
    return {"requestId": request_id, "catalog": "AWSMarketplace", "agreement": a,
            "resaleAuthorization": {"id": ra}, "acceptor": {"accountId": buyer},
            "proposer": {"accountId": proposer}, "offer": {"id": offer}}
